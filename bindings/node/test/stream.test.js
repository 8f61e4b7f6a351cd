'use strict';
// Stream: chunked outputs against the layer's call() on the whole sequence,
// which is itself checked against the float64 reference in reference.js.

const test = require('node:test');
const assert = require('node:assert/strict');
const os = require('node:os');
const path = require('node:path');

process.env.KERAS_HOME = path.join(os.tmpdir(), `conv1d-node-tests-no-keras-home-${process.pid}`);

const conv1d = require('..');
const reference = require('./reference');
const { randoms, assertClose, expectError } = require('./helpers');

// Frames [t0, t0 + m) of a [batch, steps, channels] or [batch, channels, steps] tensor.
function slice(x, shape, last, t0, m) {
  const [batch, steps, channels] = last ? shape : [shape[0], shape[2], shape[1]];
  const out = new Float32Array(batch * m * channels);
  for (let n = 0; n < batch; n++) {
    for (let t = 0; t < m; t++) {
      for (let c = 0; c < channels; c++) {
        out[last ? (n * m + t) * channels + c : (n * channels + c) * m + t] = last
          ? x[(n * steps + t0 + t) * channels + c]
          : x[(n * channels + c) * steps + t0 + t];
      }
    }
  }
  return { data: out, shape: last ? [batch, m, channels] : [batch, channels, m] };
}

// Chunk outputs concatenated along time.
function concat(parts, last) {
  const [batch, a, b] = parts[0].shape;
  const frames = parts.reduce((sum, p) => sum + (last ? p.shape[1] : p.shape[2]), 0);
  const width = last ? b : a;
  const data = new Float32Array(batch * frames * width);
  let t0 = 0;
  for (const p of parts) {
    const m = last ? p.shape[1] : p.shape[2];
    for (let n = 0; n < batch; n++) {
      for (let t = 0; t < m; t++) {
        for (let f = 0; f < width; f++) {
          data[last ? (n * frames + t0 + t) * width + f : (n * width + f) * frames + t0 + t] =
            p.data[last ? (n * m + t) * width + f : (n * width + f) * m + t];
        }
      }
    }
    t0 += m;
  }
  return { data, shape: last ? [batch, frames, width] : [batch, width, frames] };
}

const bytes = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const bitwise = (a, b) => Buffer.compare(bytes(a), bytes(b)) === 0;

for (const dataFormat of ['channels_last', 'channels_first']) {
  for (const [padding, strides, dilation, groups] of [['causal', 1, 4, 1], ['valid', 2, 1, 1], ['causal', 1, 2, 6]]) {
    const name = `stream ${dataFormat} ${padding} s=${strides} d=${dilation} g=${groups}`;
    test(`${name}: chunks equal the whole sequence`, () => {
      const last = dataFormat === 'channels_last';
      const [batch, steps, channels, filters, kernelSize] = [2, 40, 6, 12, 3];
      const rand = randoms(17 + strides + 3 * dilation + groups);
      const x = rand(batch * steps * channels);
      const shape = last ? [batch, steps, channels] : [batch, channels, steps];
      for (const algorithm of ['reference', 'direct', 'gemm', 'auto']) {
        const layer = conv1d.Conv1D(filters, kernelSize, {
          strides, padding, dilationRate: dilation, groups, dataFormat, activation: 'tanh', algorithm, seed: 2,
        });
        const whole = layer.call(x, shape);
        const [kernel, bias] = layer.getWeights();
        assertClose(whole, reference.conv1d(x, shape, kernel.data, kernelSize, filters, bias.data,
          { strides, padding, dilation, groups, dataFormat, activation: 'tanh' }));
        const stream = layer.stream(batch);
        const parts = [];
        let t0 = 0;
        for (const m of [0, 1, 5, 1, 0, 9, 3, 21]) {
          const predicted = stream.outputFrames(m);
          const y = stream.process(slice(x, shape, last, t0, m));
          assert.equal(last ? y.shape[1] : y.shape[2], predicted);
          parts.push(y);
          t0 += m;
          assert.equal(stream.framesSeen, t0);
        }
        const got = concat(parts, last);
        assert.deepEqual(got.shape, whole.shape);
        if (algorithm === 'auto') {
          assertClose(got, { data: Float64Array.from(whole.data), shape: whole.shape }, { rtol: 1e-5, atol: 1e-6 });
        } else {
          assert.ok(bitwise(got.data, whole.data), `${algorithm}: not bitwise equal`);
        }
        stream.close();
        layer.close();
      }
    });
  }
}

test('stream: reset, new weights mid-stream and errors', () => {
  const rand = randoms(3);
  const layer = conv1d.Conv1D(4, 2, { padding: 'causal', dilationRate: 8, algorithm: 'direct', seed: 1 });
  const x = rand(30 * 3);
  const whole = layer.call(x, [1, 30, 3]);
  const stream = layer.stream();
  const first = stream.process(slice(x, [1, 30, 3], true, 0, 12));
  assert.ok(bitwise(first.data, whole.data.subarray(0, 12 * 4)));
  stream.reset();
  assert.equal(stream.framesSeen, 0);
  stream.process(slice(x, [1, 30, 3], true, 0, 12));
  const [kernel, bias] = layer.getWeights();
  layer.setWeights([{ data: kernel.data.map((v) => -v), shape: kernel.shape }, bias]);
  const rest = stream.process(slice(x, [1, 30, 3], true, 12, 18));
  assert.ok(bitwise(rest.data, layer.call(x, [1, 30, 3]).data.subarray(12 * 4)));

  expectError(() => stream.outputFrames(-1), conv1d.Status.INVALID_SIZE, 'frames must be >= 0');
  assert.throws(() => stream.process(slice(x, [1, 30, 3], true, 0, 1).data, [2, 1, 3]), RangeError);
  layer.setInt(conv1d.Param.DILATION_RATE, 2);
  expectError(() => stream.process(slice(x, [1, 30, 3], true, 0, 1)), conv1d.Status.INVALID_STATE,
    'dilation_rate from 8 to 2');
  assert.equal(stream.framesSeen, 30);
  stream.close();
  assert.throws(() => stream.reset(), /closed Stream/);

  const same = conv1d.Conv1D(4, 3, { padding: 'same', seed: 1 });
  same.build([null, null, 2]);
  expectError(() => same.stream(1), conv1d.Status.UNSUPPORTED, "'same'");
  expectError(() => layer.stream(0), conv1d.Status.INVALID_SIZE, 'batch');
  const other = layer.stream(1);
  layer.close();
  assert.throws(() => other.outputFrames(1), /closed Conv1D/);
});
