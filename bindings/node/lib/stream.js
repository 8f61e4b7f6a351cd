'use strict';
// Stream: chunk-by-chunk inference on a built Conv1D (libconv1d's conv1d_stream).

const native = require('./native');
const { asTensor } = require('./layer');

const registry = new FinalizationRegistry((handle) => native.lib().stream_destroy(handle));

/**
 * Feeds a built Conv1D with padding 'causal' or 'valid' a few frames at a time, as a real-time
 * WaveNet or TCN runs, keeping the history itself (the last (kernelSize - 1) * dilationRate frames
 * of each sequence). process(x) takes a chunk in the layer's data format, [batch, frames, channels]
 * or [batch, channels, frames], with any number of frames (0 and 1 included), and returns the
 * outputs it completes, { data, shape } with shape [batch, outFrames, filters] or
 * [batch, filters, outFrames]. Concatenated along time they are bitwise the layer's call() on the
 * whole sequence when its algorithm is 'reference', 'direct' or 'gemm' (any maxIsa and thread
 * count), and equal to float32 rounding under 'auto'. The layer must stay open while the stream
 * is used; weights set on it apply from the next chunk.
 */
class Stream {
  constructor(layer, batch = 1) {
    if (!Number.isInteger(batch)) throw new TypeError(`batch must be an integer, got ${String(batch)}`);
    this.layer = layer; // keeps the layer, and so its C handle, reachable
    this.lib = layer.lib;
    this.batch = batch;
    this.handle = null;
    const out = [null];
    this.lib.stream_create(layer.h(), batch, out);
    this.handle = out[0];
    registry.register(this, this.handle, this);
  }

  /** Free the C stream now; the object is unusable afterwards. Calling it twice is fine. */
  close() {
    const handle = this.handle;
    this.handle = null;
    if (handle) {
      registry.unregister(this);
      this.lib.stream_destroy(handle);
    }
  }

  get closed() {
    return !this.handle;
  }

  h() {
    if (!this.handle) throw new Error('operation on a closed Stream');
    this.layer.h(); // throws if the layer was closed: the stream would read freed memory
    return this.handle;
  }

  /** Frames per sequence fed since creation or the last reset. */
  get framesSeen() {
    const frames = [0];
    this.lib.stream_frames_seen(this.h(), frames);
    return Number(frames[0]);
  }

  /** Back to no frames seen (for 'causal', the causal zeros come first again). */
  reset() {
    this.lib.stream_reset(this.h());
  }

  /** How many output frames per sequence the next `frames` frames would complete. */
  outputFrames(frames) {
    const out = [0];
    this.lib.stream_output_frames(this.h(), frames, out);
    return Number(out[0]);
  }

  /**
   * Feed a chunk: a { data, shape } tensor, data with `shape`, or a nested array, rank 3 in the
   * layer's data format. Returns the completed outputs as { data: Float32Array, shape }.
   */
  process(x, shape) {
    const h = this.h();
    const input = asTensor(x, shape, 'chunk');
    if (input.shape.length !== 3) {
      throw new RangeError(
        `a chunk has rank 3 ([batch, frames, channels] or [batch, channels, frames]); got [${input.shape}]`,
      );
    }
    const last = this.layer.channelsLast();
    const [batch, frames, channels] = last ? input.shape : [input.shape[0], input.shape[2], input.shape[1]];
    if (batch !== this.batch) {
      throw new RangeError(`the chunk's batch axis is ${batch} but the stream was created for batch ${this.batch}`);
    }
    if (channels !== this.layer.inputChannels) {
      throw new RangeError(
        `the chunk has ${channels} channels but the layer was built for ${this.layer.inputChannels}`,
      );
    }
    const outFrames = this.outputFrames(frames);
    const width = this.layer.filters / (this.layer.activation === 'glu' ? 2 : 1);
    const y = new Float32Array(batch * outFrames * width);
    const written = [0];
    this.lib.stream_process(h, input.data, input.data.length, frames, y, y.length, written);
    return { data: y, shape: last ? [batch, outFrames, width] : [batch, width, outFrames] };
  }

  toString() {
    return this.handle ? `Stream(batch=${this.batch}, framesSeen=${this.framesSeen})` : 'Stream (closed)';
  }
}

if (typeof Symbol.dispose === 'symbol') {
  Stream.prototype[Symbol.dispose] = function dispose() {
    this.close();
  };
}

module.exports = { Stream };
