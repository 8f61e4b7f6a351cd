"""Dtype policies through the binding: float64 and bfloat16 layers against the
float64 reference of _reference.py, weights and configs with their dtype, and
the library's refusals."""

import copy
import pickle

import numpy as np
import pytest

import _reference
import conv1d
from conv1d import Status

# (padding, strides, dilation_rate, kernel_size, groups, data_format, activation)
GEOMETRIES = [
    ("valid", 1, 1, 3, 1, "channels_last", None),
    ("same", 2, 1, 4, 2, "channels_last", "relu"),
    ("causal", 1, 3, 3, 1, "channels_first", "tanh"),
    ("same", 1, 2, 5, 4, "channels_last", "gelu"),  # depthwise: 4 channels, 4 groups
]
CHANNELS, FILTERS, BATCH, STEPS = 4, 8, 2, 11


def make_layer(rng, dtype, geometry, **kwargs):
    padding, strides, dilation, k, groups, data_format, activation = geometry
    layer = conv1d.Conv1D(FILTERS, k, strides=strides, padding=padding, dilation_rate=dilation, groups=groups,
                          data_format=data_format, activation=activation, dtype=dtype, **kwargs)
    kernel = rng.standard_normal((k, CHANNELS // groups, FILTERS)) * 0.3
    bias = rng.standard_normal(FILTERS) * 0.5
    shape = (BATCH, STEPS, CHANNELS) if data_format == "channels_last" else (BATCH, CHANNELS, STEPS)
    return layer, rng.standard_normal(shape), kernel, bias


def reference(layer, x, kernel, bias):
    return _reference.conv1d(x, kernel, bias, strides=layer.strides[0], padding=layer.padding,
                             dilation_rate=layer.dilation_rate[0], groups=layer.groups,
                             data_format=layer.data_format, activation=layer.activation)


def magnitude(layer, x, kernel, bias):
    """S: the largest sum |x| |w| + |b| over the outputs (the reference on absolute values, no activation)."""
    return np.max(_reference.conv1d(np.abs(x), np.abs(kernel), np.abs(bias), strides=layer.strides[0],
                                     padding=layer.padding, dilation_rate=layer.dilation_rate[0],
                                     groups=layer.groups, data_format=layer.data_format))


def round_bf16(values):
    """float64 values rounded once to bfloat16 (8 significant bits, nearest, ties to even)."""
    values = np.asarray(values, dtype=np.float64)
    _, exponent = np.frexp(values)
    quantum = np.ldexp(1.0, exponent - 8)
    return np.round(values / quantum) * quantum  # np.round rounds halves to even


def ulp_bf16(values):
    _, exponent = np.frexp(np.abs(values))
    return np.ldexp(1.0, exponent - 8)


def bf16_bits(values):
    """The bfloat16 bits of float32 values that are bfloat16 values."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32)
    assert np.all(bits & 0xFFFF == 0), "not bfloat16 values"
    return (bits >> 16).astype(np.uint16)


def test_round_bf16_helper():
    # 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even gives 1;
    # 1 + 3 * 2^-8 is halfway to 1 + 2^-6 and goes up to the even one.
    assert round_bf16([1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-8 + 2**-30, -3.0]).tolist() == [
        1.0, 1 + 2**-6, 1 + 2**-7, -3.0]


def test_float32_is_the_default_and_unchanged():
    rng = np.random.default_rng(1)
    plain = conv1d.Conv1D(4, 3, seed=5)
    named = conv1d.Conv1D(4, 3, seed=5, dtype="float32")
    for layer in (plain, named):
        assert (layer.dtype, layer.compute_dtype, layer.variable_dtype) == ("float32",) * 3
    x = rng.standard_normal((2, 9, 3))  # float64, cast to float32 as before
    y, y_named = plain(x), named(x)
    assert y.dtype == np.float32 and np.array_equal(y, y_named)
    assert all(w.dtype == np.float32 for w in plain.get_weights())
    assert plain.weights[0].dtype == "float32" and plain.weights[0].numpy().dtype == np.float32
    assert plain.get_config()["dtype"]["config"]["name"] == "float32"


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_float64_forward(geometry):
    rng = np.random.default_rng(2)
    layer, x, kernel, bias = make_layer(rng, "float64", geometry)
    assert (layer.dtype, layer.compute_dtype, layer.variable_dtype) == ("float64",) * 3
    layer.set_weights([kernel, bias])
    y = layer(x)
    assert y.dtype == np.float64
    expected = reference(layer, x, kernel, bias)
    assert y.shape == expected.shape
    # float64 throughout: ~1e-12 of the magnitude, far below float32's 1e-7.
    bound = 1e-12 * magnitude(layer, x, kernel, bias) * (1 + np.abs(expected))
    assert np.all(np.abs(y - expected) <= bound), np.max(np.abs(y - expected))
    # Other real inputs are cast to float64, as Keras autocasts them.
    ints = rng.integers(-3, 4, x.shape)
    y_ints = layer(ints)
    assert y_ints.dtype == np.float64 and np.array_equal(y_ints, layer(ints.astype(np.float64)))
    assert np.array_equal(layer(np.asfortranarray(x)), y)  # a non-contiguous input is copied, same result


def test_float64_weights_keep_full_precision():
    rng = np.random.default_rng(3)
    layer = conv1d.Conv1D(3, 2, dtype="float64")
    kernel, bias = rng.standard_normal((2, 5, 3)) / 3, rng.standard_normal(3) / 7  # not float32 values
    layer.set_weights([kernel, bias])  # builds the layer
    assert layer.input_channels == 5
    got = layer.get_weights()
    assert [w.dtype for w in got] == [np.float64, np.float64]
    assert np.array_equal(got[0], kernel) and np.array_equal(got[1], bias)
    kernel_var, bias_var = layer.weights
    assert kernel_var.dtype == "float64" and np.array_equal(kernel_var.numpy(), kernel)
    new_kernel = rng.standard_normal((2, 5, 3)) / 11
    kernel_var.assign(new_kernel)
    assert np.array_equal(layer.kernel, new_kernel) and np.array_equal(layer.bias, bias)  # bias untouched
    bias_var.assign(bias / 3)
    assert np.array_equal(layer.bias, bias / 3) and np.array_equal(layer.kernel, new_kernel)
    with pytest.raises(ValueError, match="shape"):
        bias_var.assign(np.zeros(4))
    assert np.array_equal(layer.bias, bias / 3)
    # The forward pass uses the float64 weights: a float32 round trip would be off by ~1e-8.
    x = rng.standard_normal((1, 4, 5))
    expected = _reference.conv1d(x, new_kernel, bias / 3)
    assert np.max(np.abs(layer(x) - expected)) < 1e-13


def test_float64_build_draws_in_double():
    layer = conv1d.Conv1D(4, 3, dtype="float64", seed=9)
    layer.build((None, None, 6))
    kernel = layer.get_weights()[0]
    assert kernel.dtype == np.float64
    assert not np.array_equal(kernel, kernel.astype(np.float32).astype(np.float64))  # not rounded to float
    same = conv1d.Conv1D(4, 3, seed=9)
    same.build((None, None, 6))
    np.testing.assert_allclose(kernel, same.get_weights()[0], rtol=1e-6)  # the same random stream


@pytest.mark.parametrize("policy", ["bfloat16", "mixed_bfloat16"])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_bfloat16_forward(policy, geometry):
    rng = np.random.default_rng(4)
    layer, x, kernel, bias = make_layer(rng, policy, geometry)
    assert layer.dtype == policy and layer.compute_dtype == "bfloat16"
    assert layer.variable_dtype == ("bfloat16" if policy == "bfloat16" else "float32")
    x = x.astype(np.float32)
    layer.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    y = layer(x)
    assert y.dtype == np.float32
    bits = bf16_bits(y)  # the float32 array holds bfloat16 values exactly
    # The layer in double on bf16-rounded x, kernel and bias; one bf16 ulp
    # plus the float32 accumulation of k*C/G products.
    xr, kr, br = round_bf16(x), round_bf16(kernel.astype(np.float32)), round_bf16(bias.astype(np.float32))
    expected = reference(layer, xr, kr, br)
    k, groups = layer.kernel_size[0], layer.groups
    s = magnitude(layer, xr, kr, br)
    bound = ulp_bf16(np.maximum(np.abs(y), np.abs(expected))) + (k * CHANNELS / groups + 4) * 2.0**-24 * s * (
        1 + np.abs(expected))
    error = np.abs(y - round_bf16(expected))
    assert np.all(error <= bound), np.max(error - bound)
    assert np.any(y != expected.astype(np.float32))  # it really is bf16, not float32
    # float64 inputs are rounded to bf16 once, by the library.
    assert np.array_equal(layer(xr), y)
    assert np.array_equal(layer(x.astype(np.float64)), y)
    # Raw bfloat16 bits in and out give the same values.
    raw = layer(bf16_bits(xr.astype(np.float32)), bfloat16_bits=True)
    assert raw.dtype == np.uint16 and np.array_equal(raw, bits)


def test_bfloat16_weights():
    rng = np.random.default_rng(5)
    kernel = rng.standard_normal((3, 2, 4)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    stored = conv1d.Conv1D(4, 3, dtype="bfloat16")
    stored.set_weights([kernel, bias])
    got = stored.get_weights()
    assert [w.dtype for w in got] == [np.float32, np.float32]
    assert np.array_equal(got[0], round_bf16(kernel)) and np.array_equal(got[1], round_bf16(bias))
    assert stored.weights[0].dtype == "bfloat16"
    # float64 data are rounded to bf16 once, not through float32: 1 + 2^-8 + 2^-30
    # rounds up in one step, but to 1 + 2^-8 (a tie, then down to 1) through float32.
    tricky = np.full((3, 2, 4), 1 + 2**-8 + 2**-30)
    stored.set_weights([tricky, bias.astype(np.float64)])
    assert np.all(stored.get_weights()[0] == 1 + 2**-7)
    stored.weights[1].assign(np.full(4, 0.1))
    assert np.array_equal(stored.bias, round_bf16(np.full(4, 0.1)))

    mixed = conv1d.Conv1D(4, 3, dtype="mixed_bfloat16")
    mixed.set_weights([kernel, bias])
    assert np.array_equal(mixed.get_weights()[0], kernel)  # float32 masters, not rounded
    assert mixed.weights[0].dtype == "float32"


@pytest.mark.parametrize("policy", ["float64", "bfloat16", "mixed_bfloat16"])
def test_config_round_trip(policy):
    layer = conv1d.Conv1D(4, 3, dtype=policy, name="typed")
    config = layer.get_config()
    assert config["dtype"] == {"module": "keras", "class_name": "DTypePolicy", "config": {"name": policy},
                               "registered_name": None}
    again = conv1d.Conv1D.from_config(config)
    assert (again.dtype, again.compute_dtype, again.variable_dtype) == (
        layer.dtype, layer.compute_dtype, layer.variable_dtype)
    assert again.get_config() == config
    # Older Keras wrote the policy as a string; a serialized policy or a policy object work as dtype too.
    assert conv1d.Conv1D.from_config(dict(config, dtype=policy)).dtype == policy
    assert conv1d.Conv1D(4, 3, dtype=config["dtype"]).dtype == policy
    assert conv1d.Conv1D(4, 3, dtype=layer.dtype_policy).dtype == policy
    assert layer.dtype_policy.get_config() == {"name": policy}


def test_numpy_dtype_object_is_a_policy_name():
    assert conv1d.Conv1D(4, 3, dtype=np.dtype("float64")).dtype == "float64"


def test_copy_and_pickle_keep_the_policy_and_float64_weights():
    rng = np.random.default_rng(6)
    layer = conv1d.Conv1D(3, 2, dtype="float64")
    layer.set_weights([rng.standard_normal((2, 4, 3)) / 3, rng.standard_normal(3) / 7])
    x = rng.standard_normal((1, 5, 4))
    for other in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert other.dtype == "float64"
        assert all(np.array_equal(a, b) for a, b in zip(other.get_weights(), layer.get_weights()))
        assert np.array_equal(other(x), layer(x))


def test_policy_errors_are_the_librarys():
    with pytest.raises(conv1d.UnsupportedError, match="'float16'") as info:
        conv1d.Conv1D(4, 3, dtype="float16")
    assert info.value.status == Status.UNSUPPORTED and isinstance(info.value, NotImplementedError)
    with pytest.raises(conv1d.UnsupportedError, match="mixed_float16"):
        conv1d.Conv1D(4, 3, dtype={"class_name": "DTypePolicy", "config": {"name": "mixed_float16"}})
    with pytest.raises(conv1d.UnknownNameError, match="'float65'") as info:
        conv1d.Conv1D(4, 3, dtype="float65")
    assert info.value.status == Status.UNKNOWN_NAME
    with pytest.raises(TypeError, match="dtype"):
        conv1d.Conv1D(4, 3, dtype=64)
    with pytest.raises(ValueError, match="DTypePolicy"):
        conv1d.Conv1D(4, 3, dtype={"class_name": "DTypePolicy"})
    with pytest.raises(conv1d.UnsupportedError, match="LoRA"):
        conv1d.Conv1D(4, 3, dtype="float64", lora_rank=2)


@pytest.mark.parametrize("policy", ["float64", "bfloat16", "mixed_bfloat16"])
def test_training_calls_raise_the_librarys_message(policy):
    rng = np.random.default_rng(7)
    layer = conv1d.Conv1D(4, 3, dtype=policy, kernel_regularizer="l2", kernel_constraint="non_neg",
                          activity_regularizer="l1")
    x = rng.standard_normal((2, 6, 3))
    y = layer(x)
    before = layer.get_weights()
    calls = {
        "backward": lambda: layer.backward(x, np.ones_like(y)),
        "activity penalty": lambda: layer.regularization_loss(y),
        "stream": lambda: layer.stream(),
    }
    if policy != "mixed_bfloat16":  # mixed_bfloat16 keeps its float32 weights' penalties and constraints
        calls["weight penalties"] = layer.regularization_loss
        calls["constraints"] = layer.apply_constraints
    else:
        assert layer.regularization_loss() > 0
        layer.apply_constraints()
        before = layer.get_weights()
        assert np.all(before[0] >= 0)
    for what, call in calls.items():
        with pytest.raises(conv1d.UnsupportedError, match=policy) as info:
            call()
        assert info.value.status == Status.UNSUPPORTED, what
    # Nothing changed, and the layer still runs.
    assert all(np.array_equal(a, b) for a, b in zip(layer.get_weights(), before))
    assert np.array_equal(layer(x), layer(x))


def test_bfloat16_bits_take_uint16_only():
    layer = conv1d.Conv1D(2, 1, dtype="bfloat16")
    with pytest.raises(TypeError, match="uint16"):
        layer(np.ones((1, 2, 2), np.float32), bfloat16_bits=True)
    layer.set_weights([np.ones((1, 2, 2)), np.zeros(2)])
    one = np.full((1, 2, 2), 0x3F80, np.uint16)  # bfloat16 1.0
    assert layer(one, bfloat16_bits=True).tolist() == [[[0x4000, 0x4000]] * 2]  # 2.0
    # A float32 layer rounds its result to bfloat16 for bits out.
    plain = conv1d.Conv1D(1, 1, use_bias=False)
    plain.set_weights([np.full((1, 1, 1), 1 + 2**-10, np.float32)])
    assert plain(np.full((1, 1, 1), 0x3F80, np.uint16), bfloat16_bits=True).tolist() == [[[0x3F80]]]
