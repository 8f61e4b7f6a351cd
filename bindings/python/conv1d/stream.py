"""``conv1d.Stream``: chunk-by-chunk inference on a built Conv1D (libconv1d's conv1d_stream)."""

import ctypes
import numbers

import numpy as np

from ._native import StreamPtr
from .layer import _float32_input, _float_ptr


class Stream:
    """Feeds a built :class:`Conv1D` with padding 'causal' or 'valid' a few
    frames at a time, as a real-time WaveNet or TCN runs, keeping the history
    itself (the last ``(kernel_size - 1) * dilation_rate`` frames of each
    sequence).

    ``process(x)`` takes a chunk in the layer's data format, ``(batch, frames,
    channels)`` or ``(batch, channels, frames)``, with any number of frames
    (0 and 1 included), and returns the outputs it completes, ``(batch,
    out_frames, filters)`` or ``(batch, filters, out_frames)``. Concatenated
    along time, they are bitwise the layer's ``call`` on the whole sequence
    when the layer's ``algorithm`` is "reference", "direct" or "gemm" (any
    ``max_isa`` and thread count), and equal to float32 rounding under "auto".

    The layer must stay open while the stream is used; weights set on it
    apply from the next chunk. A change of padding, strides, dilation_rate or
    data_format raises :class:`conv1d.StateError`. One thread at a time per
    stream; streams of one layer may run in different threads at once.
    """

    def __init__(self, layer, batch=1):
        if isinstance(batch, bool) or not isinstance(batch, numbers.Integral):
            raise TypeError("batch must be an int, got %r" % (batch,))
        self._handle = None
        self._layer = layer  # keeps the Python layer, and so its C handle, alive
        self._lib = layer._lib
        handle = StreamPtr()
        self._lib.stream_create(layer._h(), int(batch), ctypes.byref(handle))
        self._handle = handle
        self._batch = int(batch)

    # ---- handle lifetime -------------------------------------------------

    def close(self):
        """Free the C stream now. The object is unusable afterwards."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._lib.stream_destroy(handle)

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    @property
    def closed(self):
        return not self._handle

    def _h(self):
        if not self._handle:
            raise ValueError("operation on a closed Stream")
        self._layer._h()  # raises if the layer was closed: the stream would read freed memory
        return self._handle

    # ---- state -----------------------------------------------------------

    @property
    def batch(self):
        """Number of sequences fed side by side."""
        return self._batch

    @property
    def layer(self):
        return self._layer

    @property
    def frames_seen(self):
        """Frames per sequence fed since creation or the last reset."""
        frames = ctypes.c_int64()
        self._lib.stream_frames_seen(self._h(), ctypes.byref(frames))
        return frames.value

    def reset(self):
        """Back to no frames seen (for 'causal', the causal zeros come first again)."""
        self._lib.stream_reset(self._h())

    def output_frames(self, frames):
        """How many output frames per sequence the next ``frames`` frames would complete."""
        out = ctypes.c_int64()
        self._lib.stream_output_frames(self._h(), int(frames), ctypes.byref(out))
        return out.value

    # ---- running ---------------------------------------------------------

    def process(self, x):
        """Feed a chunk (rank 3, in the layer's data format) and return the
        outputs it completes as a new float32 ndarray."""
        handle = self._h()
        x = _float32_input(x, "x")
        channels_last = self._layer._channels_last()
        if x.ndim != 3:
            raise ValueError("a chunk has rank 3: (batch, frames, channels) or (batch, channels, frames); got shape %r"
                             % (x.shape,))
        if x.shape[0] != self._batch:
            raise ValueError("the chunk's batch axis is %d but the stream was created for batch %d"
                             % (x.shape[0], self._batch))
        frames, channels = (x.shape[1], x.shape[2]) if channels_last else (x.shape[2], x.shape[1])
        if channels != self._layer.input_channels:
            raise ValueError("the chunk has %d channels but the layer was built for %s"
                             % (channels, self._layer.input_channels))
        out_frames = self.output_frames(frames)
        width = self._layer.filters // (2 if self._layer.activation == "glu" else 1)
        shape = (self._batch, out_frames, width) if channels_last else (self._batch, width, out_frames)
        y = np.empty(shape, dtype=np.float32)
        written = ctypes.c_int64()
        self._lib.stream_process(handle, _float_ptr(x) if x.size else None, x.size, frames,
                                 _float_ptr(y) if y.size else None, y.size, ctypes.byref(written))
        assert written.value == out_frames
        return y

    __call__ = process

    def __repr__(self):
        state = "closed" if self.closed else "frames_seen=%d" % self.frames_seen
        return "<conv1d.Stream batch=%d on %r, %s>" % (self._batch, self._layer.name, state)
