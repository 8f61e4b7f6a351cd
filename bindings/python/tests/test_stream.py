"""conv1d.Stream: chunked outputs against the layer's call on the whole sequence."""

import numpy as np
import pytest

import _reference
import conv1d
from conv1d.layer import Param


def chunks(rng, steps, longest):
    """Chunk lengths covering ``steps`` frames, with 0- and 1-frame chunks among them."""
    lens = [0, 1]
    while sum(lens) < steps:
        lens.append(int(min(rng.integers(0, longest + 1), steps - sum(lens))))
    rng.shuffle(lens)
    return lens


def stream_all(stream, x, lens, channels_last):
    axis = 1 if channels_last else 2
    outs, t0 = [], 0
    for m in lens:
        part = x[:, t0 : t0 + m, :] if channels_last else x[:, :, t0 : t0 + m]
        predicted = stream.output_frames(m)
        y = stream.process(part)
        assert y.shape[axis] == predicted
        outs.append(y)
        t0 += m
        assert stream.frames_seen == t0
    return np.concatenate(outs, axis=axis)


@pytest.mark.parametrize("algorithm", ["reference", "direct", "gemm", "auto"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("padding, strides, dilation, groups", [
    ("causal", 1, 4, 1), ("causal", 2, 1, 1), ("valid", 1, 2, 3), ("valid", 3, 1, 1), ("causal", 1, 3, 6)])
def test_chunks_match_the_whole_sequence(algorithm, data_format, padding, strides, dilation, groups):
    rng = np.random.default_rng(abs(hash((algorithm, data_format, padding, strides, dilation, groups))) % 2**32)
    batch, steps, channels, filters, kernel_size = 2, 45, 6, 12, 3
    layer = conv1d.Conv1D(filters, kernel_size, strides=strides, padding=padding, dilation_rate=dilation,
                          groups=groups, data_format=data_format, activation="tanh", algorithm=algorithm, seed=1)
    shape = (batch, steps, channels) if data_format == "channels_last" else (batch, channels, steps)
    x = rng.standard_normal(shape).astype(np.float32)
    whole = layer(x)
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(whole, _reference.conv1d(x, kernel, bias, strides=strides, padding=padding,
                                                        dilation_rate=dilation, groups=groups,
                                                        data_format=data_format, activation="tanh"),
                               rtol=1e-4, atol=1e-5)
    with layer.stream(batch) as stream:
        got = stream_all(stream, x, chunks(rng, steps, 8), data_format == "channels_last")
    assert got.shape == whole.shape
    if algorithm == "auto":
        np.testing.assert_allclose(got, whole, rtol=1e-5, atol=1e-6)
    else:
        assert got.tobytes() == whole.tobytes()  # bitwise


def test_frame_by_frame_reset_and_weights():
    rng = np.random.default_rng(5)
    layer = conv1d.Conv1D(8, 2, padding="causal", dilation_rate=8, algorithm="direct", seed=3)
    x = rng.standard_normal((1, 40, 4)).astype(np.float32)
    whole = layer(x)
    stream = conv1d.Stream(layer, 1)
    assert stream.batch == 1 and stream.layer is layer
    frames = [stream.process(x[:, t : t + 1, :]) for t in range(40)]
    assert np.concatenate(frames, axis=1).tobytes() == whole.tobytes()
    stream.reset()
    assert stream.frames_seen == 0
    first = stream.process(x[:, :10, :])
    np.testing.assert_array_equal(first, whole[:, :10, :])
    # New weights apply from the next chunk, over the kept history.
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel * 2.0, bias])
    rest = stream.process(x[:, 10:, :])
    np.testing.assert_array_equal(rest, layer(x)[:, 10:, :])
    assert "frames_seen=40" in repr(stream)


def test_errors():
    layer = conv1d.Conv1D(4, 3, padding="same", seed=1)
    with pytest.raises(conv1d.StateError, match="no weights"):
        layer.stream(1)
    layer.build((None, None, 2))
    with pytest.raises(conv1d.UnsupportedError, match="'same'"):
        layer.stream(1)
    first = conv1d.Conv1D(4, 3, padding="causal", data_format="channels_first", activation="softmax", seed=1)
    first.build((None, 2, None))
    with pytest.raises(conv1d.UnsupportedError, match="time"):
        first.stream(1)

    causal = conv1d.Conv1D(4, 3, padding="causal", seed=1)
    causal.build((None, None, 2))
    with pytest.raises(ValueError, match="batch must be positive"):
        causal.stream(0)
    stream = causal.stream(2)
    x = np.ones((2, 5, 2), np.float32)
    with pytest.raises(ValueError, match="batch"):
        stream.process(np.ones((1, 5, 2), np.float32))
    with pytest.raises(ValueError, match="channels"):
        stream.process(np.ones((2, 5, 3), np.float32))
    stream.process(x)
    causal._set_int(Param.STRIDES, 2)
    with pytest.raises(conv1d.StateError, match="strides from 1 to 2"):
        stream.process(x)
    assert stream.frames_seen == 5  # unchanged
    causal._set_int(Param.STRIDES, 1)
    assert stream.process(x).shape == (2, 5, 4)
    stream.close()
    with pytest.raises(ValueError, match="closed Stream"):
        stream.process(x)
    other = causal.stream(1)
    causal.close()
    with pytest.raises(ValueError, match="closed Conv1D"):
        other.output_frames(1)
