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


# ---- backward -------------------------------------------------------------
# The derivative of each elementwise activation with respect to its input z,
# written by hand (the library's are checked against these).

def _gelu_prime(z):
    return 0.5 * (1.0 + _erf(z / math.sqrt(2.0))) + z * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


ACTIVATION_DERIVATIVES = {
    None: lambda z: np.ones_like(z),
    "linear": lambda z: np.ones_like(z),
    "relu": lambda z: (z > 0.0).astype(np.float64),
    "tanh": lambda z: 1.0 - np.tanh(z) ** 2,
    "sigmoid": lambda z: _sigmoid(z) * (1.0 - _sigmoid(z)),
    "silu": lambda z: _sigmoid(z) * (1.0 + z * (1.0 - _sigmoid(z))),
    "elu": lambda z: np.where(z > 0.0, 1.0, np.exp(np.minimum(z, 0.0))),
    "gelu": _gelu_prime,
    "softplus": _sigmoid,
}


def _pre_activation_gradient(z, dy, activation):
    """dL/dz from dL/dy for y = activation(z), z in the output's layout."""
    if activation == "softmax":  # over the last axis: J^T dy = y * (dy - <dy, y>)
        y = _softmax_last(z)
        return y * (dy - (dy * y).sum(axis=-1, keepdims=True))
    return dy * ACTIVATION_DERIVATIVES[activation](z)


def conv1d_backward(x, kernel, bias, dy, strides=1, padding="valid", dilation_rate=1, groups=1,
                    data_format="channels_last", activation=None):
    """(dx, dkernel, dbias) in float64 for the loss whose gradient with respect
    to the output of conv1d(...) is dy: the chain rule through the activation,
    then the transposed cross-correlation. dbias is None without a bias."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(kernel, dtype=np.float64)
    dy = np.asarray(dy, dtype=np.float64)
    z = conv1d(x, w, bias, strides, padding, dilation_rate, groups, data_format, activation=None)
    dz = _pre_activation_gradient(z, dy, activation)  # in the output's layout
    if data_format == "channels_first":
        x = x.transpose(0, 2, 1)
        dz = dz.transpose(0, 2, 1)
    batch, steps, channels = x.shape
    k, cg, filters = w.shape
    fg = filters // groups
    left, right = pads(steps, k, strides, padding, dilation_rate)
    xp = np.concatenate([np.zeros((batch, left, channels)), x, np.zeros((batch, right, channels))], axis=1)
    out_steps = dz.shape[1]
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for g in range(groups):
        cs, fs = slice(g * cg, (g + 1) * cg), slice(g * fg, (g + 1) * fg)
        for j in range(k):
            rows = slice(j * dilation_rate, j * dilation_rate + (out_steps - 1) * strides + 1, strides)
            taps = xp[:, rows, cs]  # (batch, out_steps, cg)
            dw[j, :, fs] += np.einsum("ntc,ntf->cf", taps, dz[:, :, fs])
            dxp[:, rows, cs] += dz[:, :, fs] @ w[j, :, fs].T
    dx = dxp[:, left : left + steps, :]
    if data_format == "channels_first":
        dx = dx.transpose(0, 2, 1)
    db = None if bias is None else dz.sum(axis=(0, 1))
    return dx, dw, db


def numerical_gradient(f, value, h=1e-6):
    """Central finite differences of the scalar f at the float64 array value."""
    value = np.array(value, dtype=np.float64)
    grad = np.zeros_like(value)
    flat, out = value.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + h
        up = f(value)
        flat[i] = keep - h
        down = f(value)
        flat[i] = keep
        out[i] = (up - down) / (2.0 * h)
    return grad
