"""Training through the binding: backward against the float64 reference of
_reference.py (itself checked against finite differences of the reference
forward), Keras penalties and constraints against values worked out by hand,
LoRA, Keras' weight lists, and a small SGD loop."""

import math

import numpy as np
import pytest

import _reference
import conv1d

RTOL, ATOL = 2e-4, 2e-5


def check_close(actual, expected, what):
    assert actual.dtype == np.float32, what
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(actual.astype(np.float64), expected, rtol=RTOL, atol=ATOL * scale, err_msg=what)


def make_case(rng, batch, steps, channels, k, filters, groups, data_format="channels_last"):
    shape = (batch, steps, channels) if data_format == "channels_last" else (batch, channels, steps)
    x = rng.standard_normal(shape).astype(np.float32)
    kernel = (rng.standard_normal((k, channels // groups, filters)) * 0.4).astype(np.float32)
    bias = (rng.standard_normal(filters) * 0.3).astype(np.float32)
    return x, kernel, bias


def test_reference_backward_is_the_gradient_of_the_reference_forward():
    # The oracle checked against central differences of the forward it differentiates:
    # strides, 'same' padding, groups, channels_first and a nonlinear activation at once.
    rng = np.random.default_rng(1)
    kw = dict(strides=2, padding="same", groups=2, data_format="channels_first", activation="gelu")
    x, kernel, bias = make_case(rng, 2, 7, 4, 3, 4, 2, "channels_first")
    x, kernel, bias = x.astype(np.float64), kernel.astype(np.float64), bias.astype(np.float64)
    dy = rng.standard_normal(_reference.conv1d(x, kernel, bias, **kw).shape)

    def check(x, kernel, bias, dy, kw):
        def loss(x_=x, kernel_=kernel, bias_=bias):
            return float((_reference.conv1d(x_, kernel_, bias_, **kw) * dy).sum())

        dx, dk, db = _reference.conv1d_backward(x, kernel, bias, dy, **kw)
        for got, argument, value in ((dx, "x_", x), (dk, "kernel_", kernel), (db, "bias_", bias)):
            numeric = _reference.numerical_gradient(lambda v: loss(**{argument: v}), value)
            np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-7, err_msg=argument)

    check(x, kernel, bias, dy, kw)
    # softmax is axis-wise: its Jacobian is not diagonal.
    kw = dict(padding="causal", dilation_rate=2, activation="softmax")
    x, kernel, bias = (a.astype(np.float64) for a in make_case(rng, 2, 6, 3, 2, 5, 1))
    check(x, kernel, bias, rng.standard_normal(_reference.conv1d(x, kernel, bias, **kw).shape), kw)


CASES = [
    # (batch, steps, channels, k, filters, keyword arguments)
    (2, 11, 3, 3, 4, dict()),
    (3, 10, 4, 3, 6, dict(strides=2, padding="same", activation="relu")),
    (2, 12, 3, 2, 5, dict(padding="causal", dilation_rate=3, activation="tanh")),
    (2, 9, 6, 3, 4, dict(groups=2, padding="same", activation="gelu")),
    (2, 13, 4, 4, 4, dict(groups=4, strides=3, activation="sigmoid")),  # depthwise
    (2, 10, 4, 3, 6, dict(data_format="channels_first", strides=2, activation="silu")),
    (3, 8, 2, 3, 4, dict(data_format="channels_first", padding="causal", dilation_rate=2, activation="elu")),
    (2, 9, 3, 2, 5, dict(padding="same", activation="softmax")),
    (2, 7, 3, 3, 4, dict(use_bias=False, activation="softplus")),
]


@pytest.mark.parametrize("batch, steps, channels, k, filters, kw", CASES)
def test_backward_matches_the_reference(batch, steps, channels, k, filters, kw):
    rng = np.random.default_rng(steps * 31 + filters)
    kw = dict(kw)
    use_bias = kw.pop("use_bias", True)
    data_format = kw.get("data_format", "channels_last")
    x, kernel, bias = make_case(rng, batch, steps, channels, k, filters, kw.get("groups", 1), data_format)
    layer = conv1d.Conv1D(filters, k, use_bias=use_bias, **kw)
    layer.set_weights([kernel, bias] if use_bias else [kernel])
    y = layer(x)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx, grads = layer.backward(x, dy)
    assert list(grads) == (["kernel", "bias"] if use_bias else ["kernel"])
    want_dx, want_dk, want_db = _reference.conv1d_backward(x, kernel, bias if use_bias else None, dy, **kw)
    check_close(dx, want_dx, "dx")
    check_close(grads["kernel"], want_dk, "dkernel")
    if use_bias:
        check_close(grads["bias"], want_db, "dbias")
    # Only what is asked for is computed.
    none_dx, only_bias = layer.backward(x, dy, input_grad=False, kernel_grad=False)
    assert none_dx is None and list(only_bias) == (["bias"] if use_bias else [])
    if use_bias:
        assert np.array_equal(only_bias["bias"], grads["bias"])


def test_every_algorithm_gives_the_reference_gradients():
    rng = np.random.default_rng(5)
    x, kernel, bias = make_case(rng, 2, 15, 8, 3, 16, 1)
    dy = rng.standard_normal((2, 15, 16)).astype(np.float32)
    want = _reference.conv1d_backward(x, kernel, bias, dy, padding="same", activation="tanh")
    for algorithm in ["reference", "direct", "gemm", "auto"]:
        layer = conv1d.Conv1D(16, 3, padding="same", activation="tanh", algorithm=algorithm)
        layer.set_weights([kernel, bias])
        dx, grads = layer.backward(x, dy)
        check_close(dx, want[0], algorithm + " dx")
        check_close(grads["kernel"], want[1], algorithm + " dkernel")
        check_close(grads["bias"], want[2], algorithm + " dbias")


def test_accumulate_adds_micro_batches_into_out():
    rng = np.random.default_rng(6)
    x, kernel, bias = make_case(rng, 4, 9, 3, 3, 4, 1)
    layer = conv1d.Conv1D(4, 3, activation="relu")
    layer.set_weights([kernel, bias])
    dy = rng.standard_normal(layer(x).shape).astype(np.float32)
    whole_dx, whole = layer.backward(x, dy)
    out = layer.backward(x[:2], dy[:2], input_grad=False)
    result = layer.backward(x[2:], dy[2:], input_grad=False, out=out, accumulate=True)
    assert result[1]["kernel"] is out[1]["kernel"] and result[1]["bias"] is out[1]["bias"]  # written in place
    check_close(out[1]["kernel"], whole["kernel"].astype(np.float64), "accumulated dkernel")
    check_close(out[1]["bias"], whole["bias"].astype(np.float64), "accumulated dbias")
    # out without accumulate overwrites.
    stale = (np.full_like(whole_dx, 7.0), {k: np.full_like(v, 7.0) for k, v in whole.items()})
    again = layer.backward(x, dy, out=stale)
    assert np.array_equal(again[0], whole_dx) and np.array_equal(again[1]["kernel"], whole["kernel"])


# ---- penalties ------------------------------------------------------------


def test_activity_penalty_is_divided_by_the_batch():
    # Keras' docstring example: L2(0.01) on a (5, 5) output of 2s gives 0.01 * 100 / 5 = 0.2.
    layer = conv1d.Conv1D(5, 1, activity_regularizer={"class_name": "L2", "config": {"l2": 0.01}})
    layer.set_weights([np.zeros((1, 3, 5)), np.full(5, 2.0)])
    y = layer(np.ones((5, 1, 3)))
    assert y.shape == (5, 1, 5) and np.all(y == 2.0)
    assert layer.regularization_loss() == 0.0  # no weight penalties
    assert layer.regularization_loss(y) == pytest.approx(0.2, rel=1e-12)


def test_weight_penalties_by_hand():
    kernel = np.array([0.5, -1.0, 0.0, 2.0, -0.25, 1.5], dtype=np.float32).reshape(2, 1, 3)
    bias = np.array([-3.0, 0.0, 1.0], dtype=np.float32)
    layer = conv1d.Conv1D(3, 2, kernel_regularizer="l2", bias_regularizer={"class_name": "L1", "config": {"l1": 0.1}})
    layer.set_weights([kernel, bias])
    # L2 has no 1/2: 0.01 * (0.25 + 1 + 0 + 4 + 0.0625 + 2.25); L1: 0.1 * (3 + 0 + 1).
    l2 = 0.01 * 7.5625
    assert layer.regularization_loss() == pytest.approx(l2 + 0.4, rel=1e-7)
    layer.trainable = False  # Keras counts the penalties of trainable weights only
    assert layer.regularization_loss() == 0.0
    layer.trainable = True
    both = conv1d.Conv1D(3, 2, kernel_regularizer={"class_name": "L1L2", "config": {"l1": 0.5, "l2": 0.25}})
    both.set_weights([kernel, bias])
    assert both.regularization_loss() == pytest.approx(0.5 * 5.25 + 0.25 * 7.5625, rel=1e-7)
    # The string "l1l2" is Keras' L1L2() with both factors 0.
    zero = conv1d.Conv1D(3, 2, kernel_regularizer="l1l2")
    zero.set_weights([kernel, bias])
    assert zero.regularization_loss() == 0.0
    assert zero.kernel_regularizer["class_name"] == "L1L2"


def test_regularizer_gradients_are_added_on_request():
    rng = np.random.default_rng(8)
    x, kernel, bias = make_case(rng, 3, 8, 2, 3, 4, 1)
    bias[1] = 0.0  # sign(0) = 0 for L1
    layer = conv1d.Conv1D(
        4, 3, activation="tanh", kernel_regularizer={"class_name": "L2", "config": {"l2": 0.05}},
        bias_regularizer={"class_name": "L1", "config": {"l1": 0.2}},
        activity_regularizer={"class_name": "L2", "config": {"l2": 0.03}},
    )
    layer.set_weights([kernel, bias])
    y = layer(x)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx, grads = layer.backward(x, dy, regularizers=True)
    # The activity penalty 0.03 * sum(y^2) / batch adds 2 * 0.03 * y / batch to dy.
    y64 = _reference.conv1d(x, kernel, bias, activation="tanh")
    want_dx, want_dk, want_db = _reference.conv1d_backward(x, kernel, bias, dy + 2 * 0.03 * y64 / 3, activation="tanh")
    check_close(dx, want_dx, "dx with the activity penalty")
    check_close(grads["kernel"], want_dk + 2 * 0.05 * kernel, "dkernel with L2")
    check_close(grads["bias"], want_db + 0.2 * np.sign(bias), "dbias with L1")
    penalty = 0.05 * float((kernel.astype(np.float64) ** 2).sum()) + 0.2 * float(np.abs(bias).sum())
    assert layer.regularization_loss(y) == pytest.approx(penalty + 0.03 * float((y64 ** 2).sum()) / 3, rel=1e-5)
    # Without the flag, the plain gradients.
    _, plain = layer.backward(x, dy)
    check_close(plain["kernel"], _reference.conv1d_backward(x, kernel, bias, dy, activation="tanh")[1], "plain")


def test_activity_penalty_with_channels_first_glu_and_strides():
    # regularization_loss(y) works out the input length from y's shape.
    layer = conv1d.Conv1D(4, 3, strides=2, data_format="channels_first", activation="glu",
                          activity_regularizer={"class_name": "L1", "config": {"l1": 0.5}})
    x = np.random.default_rng(9).standard_normal((2, 3, 13)).astype(np.float32)
    y = layer(x)
    assert y.shape == (2, 4, 3)  # 6 output steps, halved by glu on the last axis (time)
    assert layer.regularization_loss(y) == pytest.approx(0.5 * float(np.abs(y.astype(np.float64)).sum()) / 2,
                                                         rel=1e-6)


# ---- constraints ----------------------------------------------------------


def test_max_norm_per_filter():
    # MaxNorm(2, axis=[0, 1]): one norm per filter over its (kernel_size, in_channels) taps.
    rng = np.random.default_rng(10)
    kernel = rng.standard_normal((3, 2, 4))
    kernel[:, :, 1] *= 0.1  # this filter's norm is below 2
    kernel[:, :, 2] *= 3.0  # this one's above
    layer = conv1d.Conv1D(4, 3, kernel_constraint={"class_name": "MaxNorm", "config": {"max_value": 2, "axis": [0, 1]}},
                          bias_constraint="non_neg")
    bias = np.array([-1.0, 0.5, -0.0, 3.0])
    layer.set_weights([kernel, bias])
    layer.apply_constraints()
    k32 = kernel.astype(np.float32).astype(np.float64)
    norms = np.sqrt((k32 ** 2).sum(axis=(0, 1), keepdims=True))
    assert norms[0, 0, 1] < 2.0 and norms.max() > 2.0
    want = k32 * np.clip(norms, 0.0, 2.0) / (1e-7 + norms)  # Keras shrinks by n / (n + eps) below the limit too
    check_close(layer.get_weights()[0], want, "max_norm kernel")
    assert np.array_equal(layer.bias, np.array([0.0, 0.5, 0.0, 3.0], dtype=np.float32))
    # A frozen layer is not touched by the optimizer.
    layer.set_weights([kernel, bias])
    layer.trainable = False
    layer.apply_constraints()
    assert np.array_equal(layer.get_weights()[0], kernel.astype(np.float32))


# ---- LoRA -----------------------------------------------------------------


def lora_layer(rng, rank=2, alpha=4.0, **kw):
    x, kernel, bias = make_case(rng, 2, 9, 4, 3, 5, 1)
    layer = conv1d.Conv1D(5, 3, padding="same", activation="tanh", lora_rank=rank, lora_alpha=alpha, **kw)
    a = rng.standard_normal((3, 4, rank)).astype(np.float32) * 0.5
    b = rng.standard_normal((rank, 5)).astype(np.float32) * 0.5
    layer.set_weights([kernel, bias, a, b])  # builds with LoRA on, then sets the factors
    return layer, x, kernel, bias, a, b


def test_lora_effective_kernel_through_forward():
    rng = np.random.default_rng(11)
    layer, x, kernel, bias, a, b = lora_layer(rng)
    assert layer.lora_enabled and (layer.lora_rank, layer.lora_alpha) == (2, 4)
    effective = kernel.astype(np.float64) + (4.0 / 2) * np.einsum("jcq,qf->jcf", a.astype(np.float64), b)
    check_close(layer(x), _reference.conv1d(x, effective, bias, padding="same", activation="tanh"), "LoRA forward")
    check_close(layer.kernel, effective, "layer.kernel is the effective kernel, as in Keras")
    raw = layer.get_weights()
    assert [w.shape for w in raw] == [(3, 4, 5), (5,), (3, 4, 2), (2, 5)]
    assert np.array_equal(raw[0], kernel) and np.array_equal(raw[2], a) and np.array_equal(raw[3], b)


def test_lora_factor_gradients():
    rng = np.random.default_rng(12)
    layer, x, kernel, bias, a, b = lora_layer(rng, kernel_regularizer={"class_name": "L2", "config": {"l2": 0.1}})
    effective = kernel.astype(np.float64) + 2.0 * np.einsum("jcq,qf->jcf", a.astype(np.float64), b)
    dy = rng.standard_normal(layer(x).shape).astype(np.float32)
    dx, grads = layer.backward(x, dy)
    assert list(grads) == ["bias", "lora_kernel_a", "lora_kernel_b"]  # the frozen kernel has none
    want_dx, dk, db = _reference.conv1d_backward(x, effective, bias, dy, padding="same", activation="tanh")
    check_close(dx, want_dx, "dx")
    check_close(grads["bias"], db, "dbias")
    # kernel_eff = K + s A B, s = alpha / rank = 2: dA = s dK B^T, dB = s A^T dK.
    check_close(grads["lora_kernel_a"], 2.0 * np.einsum("jcf,qf->jcq", dk, b), "dA")
    check_close(grads["lora_kernel_b"], 2.0 * np.einsum("jcq,jcf->qf", a, dk), "dB")
    # The kernel regularizer moves to the factors, as Keras' enable_lora gives them it.
    penalty = 0.1 * (float((a.astype(np.float64) ** 2).sum()) + float((b.astype(np.float64) ** 2).sum()))
    assert layer.regularization_loss() == pytest.approx(penalty, rel=1e-6)
    _, reg = layer.backward(x, dy, regularizers=True)
    check_close(reg["lora_kernel_a"], 2.0 * np.einsum("jcf,qf->jcq", dk, b) + 0.2 * a, "dA + L2")
    check_close(reg["lora_kernel_b"], 2.0 * np.einsum("jcq,jcf->qf", a, dk) + 0.2 * b, "dB + L2")
    # Accumulating twice doubles the factors' gradients.
    out = layer.backward(x, dy)
    layer.backward(x, dy, out=out, accumulate=True)
    check_close(out[1]["lora_kernel_b"], 4.0 * np.einsum("jcq,jcf->qf", a, dk), "accumulated dB")


def test_lora_weight_lists_follow_keras():
    rng = np.random.default_rng(13)
    layer, x, kernel, bias, a, b = lora_layer(rng)
    names = lambda ws: [w.name for w in ws]  # noqa: E731
    assert names(layer.weights) == ["kernel", "bias", "lora_kernel_a", "lora_kernel_b"]  # creation order
    assert names(layer.trainable_weights) == ["bias", "lora_kernel_a", "lora_kernel_b"]
    assert names(layer.non_trainable_weights) == ["kernel"]
    assert [w.path for w in layer.weights][2] == "conv1d/lora_kernel_a"
    assert layer.count_params() == 60 + 5 + 24 + 10
    layer.trainable = False
    assert layer.trainable_weights == [] and names(layer.non_trainable_weights) == names(layer.weights)


def test_enable_lora_then_merge():
    rng = np.random.default_rng(14)
    x, kernel, bias = make_case(rng, 2, 8, 3, 2, 4, 1)
    layer = conv1d.Conv1D(4, 2, kernel_regularizer="l2", seed=3)
    layer.set_weights([kernel, bias])
    y = layer(x)
    layer.enable_lora(3, lora_alpha=1.5)
    a, b = layer.get_weights()[2:]
    assert a.shape == (2, 3, 3) and np.any(a != 0) and np.array_equal(b, np.zeros((3, 4), np.float32))
    assert np.array_equal(layer(x), y)  # B starts at zero: the output is unchanged
    assert layer.get_config()["lora_rank"] == 3 and layer.get_config()["lora_alpha"] == 1.5
    new_b = rng.standard_normal((3, 4)).astype(np.float32)
    layer.weights[3].assign(new_b)
    effective = kernel.astype(np.float64) + 0.5 * np.einsum("jcq,qf->jcf", a.astype(np.float64), new_b)
    y_lora = layer(x)
    check_close(y_lora, _reference.conv1d(x, effective, bias), "after assign")
    layer.merge_lora()
    assert not layer.lora_enabled and layer.lora_rank is None and len(layer.weights) == 2
    check_close(layer.get_weights()[0], effective, "merged kernel")
    check_close(layer(x), y_lora.astype(np.float64), "merged forward")
    assert "lora_rank" not in layer.get_config()
    assert [w.name for w in layer.trainable_weights] == ["kernel", "bias"]


# ---- weights as Keras variables --------------------------------------------


def test_variables_are_live_views():
    layer = conv1d.Conv1D(3, 2)
    assert layer.weights == []
    layer.build((None, None, 2))
    kernel_var, bias_var = layer.weights
    assert (kernel_var.name, kernel_var.path, kernel_var.shape) == ("kernel", "conv1d/kernel", (2, 2, 3))
    assert kernel_var == layer.weights[0] and kernel_var != bias_var and kernel_var in layer.trainable_weights
    bias_var.assign([1.0, 2.0, 3.0])
    assert np.array_equal(layer.bias, np.array([1.0, 2.0, 3.0], np.float32))
    assert np.array_equal(np.asarray(bias_var), layer.bias)
    with pytest.raises(ValueError, match=r"bias has shape \(2,\)"):
        bias_var.assign([1.0, 2.0])


# ---- a training loop ------------------------------------------------------


def test_sgd_recovers_a_filter():
    """Plain SGD on a mean squared error, the pattern of examples/train/train.c:
    forward, dy, backward with the penalties' gradients, update the trainable
    weights, apply the constraints."""
    rng = np.random.default_rng(15)
    true_kernel = rng.standard_normal((3, 2, 2)).astype(np.float32) * 0.5
    true_bias = np.array([0.1, -0.2], np.float32)
    layer = conv1d.Conv1D(2, 3, padding="causal", seed=1,
                          kernel_regularizer={"class_name": "L2", "config": {"l2": 1e-5}},
                          kernel_constraint={"class_name": "MaxNorm", "config": {"max_value": 3.0, "axis": [0, 1]}})
    layer.build((None, None, 2))
    losses = []
    for _ in range(150):
        x = rng.uniform(-1, 1, (8, 32, 2)).astype(np.float32)
        target = _reference.conv1d(x, true_kernel, true_bias, padding="causal")
        y = layer(x)
        losses.append(float(((y - target) ** 2).mean()) + layer.regularization_loss(y))
        _, grads = layer.backward(x, 2.0 * (y - target) / y.size, regularizers=True)
        for w in layer.trainable_weights:
            w.assign(w.numpy() - 0.3 * grads[w.name])
        layer.apply_constraints()
    assert losses[-1] < 1e-3 * losses[0]
    assert np.abs(layer.kernel - true_kernel).max() < 0.02
    assert math.isfinite(losses[-1])
