"""An independent float64 numpy Conv1D, written from the Keras semantics
(spec section 2 and 5), to check the binding against. It shares no code with
the library or the binding."""

import math

import numpy as np

_erf = np.vectorize(math.erf)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


ACTIVATIONS = {
    None: lambda z: z,
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "relu6": lambda z: np.clip(z, 0.0, 6.0),
    "leaky_relu": lambda z: np.where(z >= 0.0, z, 0.2 * z),
    "elu": lambda z: np.where(z > 0.0, z, np.expm1(np.minimum(z, 0.0))),
    "selu": lambda z: 1.0507009873554804934193349852946
    * np.where(z > 0.0, z, 1.6732632423543772848170429916717 * np.expm1(np.minimum(z, 0.0))),
    "gelu": lambda z: 0.5 * z * (1.0 + _erf(z / math.sqrt(2.0))),
    "sigmoid": _sigmoid,
    "silu": lambda z: z * _sigmoid(z),
    "tanh": np.tanh,
    "softplus": lambda z: np.logaddexp(z, 0.0),
    "hard_sigmoid": lambda z: np.clip(z + 3.0, 0.0, 6.0) / 6.0,
}


def _softmax_last(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _glu_last(z):
    half = z.shape[-1] // 2
    return z[..., :half] * _sigmoid(z[..., half:])


AXIS_ACTIVATIONS = {"softmax": _softmax_last, "glu": _glu_last}


def pads(steps, kernel_size, strides, padding, dilation_rate):
    """(left, right) zero padding of the time axis, TensorFlow's split for 'same'."""
    span = dilation_rate * (kernel_size - 1)
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return span, 0
    out = -(-steps // strides)  # ceil(steps / strides)
    total = max((out - 1) * strides + span + 1 - steps, 0)
    return total // 2, total - total // 2


def conv1d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1, groups=1,
           data_format="channels_last", activation=None):
    """Keras Conv1D forward in float64: cross-correlation, then bias, then activation."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(kernel, dtype=np.float64)
    if data_format == "channels_first":
        x = x.transpose(0, 2, 1)
    batch, steps, channels = x.shape
    k, cg, filters = w.shape
    assert channels == cg * groups and filters % groups == 0
    fg = filters // groups
    left, right = pads(steps, k, strides, padding, dilation_rate)
    xp = np.concatenate([np.zeros((batch, left, channels)), x, np.zeros((batch, right, channels))], axis=1)
    out_steps = (xp.shape[1] - dilation_rate * (k - 1) - 1) // strides + 1
    y = np.zeros((batch, out_steps, filters))
    for g in range(groups):
        xg = xp[:, :, g * cg : (g + 1) * cg]
        for j in range(k):
            start = j * dilation_rate
            taps = xg[:, start : start + (out_steps - 1) * strides + 1 : strides, :]
            y[:, :, g * fg : (g + 1) * fg] += taps @ w[j, :, g * fg : (g + 1) * fg]
    if bias is not None:
        y += np.asarray(bias, dtype=np.float64)
    if data_format == "channels_first":
        y = y.transpose(0, 2, 1)  # axis-wise activations then act on time, as in Keras
    if activation in AXIS_ACTIVATIONS:
        return AXIS_ACTIVATIONS[activation](y)
    return ACTIVATIONS[activation](y)
