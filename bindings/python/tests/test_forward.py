"""Forward results of conv1d.Conv1D against the float64 reference in _reference.py."""

import itertools
import threading
import zlib

import numpy as np
import pytest

import _reference
import conv1d

RTOL, ATOL = 1e-4, 1e-5


def random_layer_data(rng, batch, steps, channels, kernel_size, filters, groups, data_format="channels_last"):
    shape = (batch, steps, channels) if data_format == "channels_last" else (batch, channels, steps)
    x = rng.standard_normal(shape).astype(np.float32)
    kernel = (rng.standard_normal((kernel_size, channels // groups, filters)) * 0.3).astype(np.float32)
    bias = (rng.standard_normal(filters) * 0.5).astype(np.float32)
    return x, kernel, bias


def check_close(y, expected):
    assert y.dtype == np.float32
    assert y.shape == expected.shape
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y.astype(np.float64), expected, rtol=RTOL, atol=ATOL)


def test_reference_is_a_cross_correlation():
    # The reference itself, on numbers small enough to do by hand: x = 1..5,
    # kernel taps (1, 10), no flip, 'same' with k=2 pads one zero on the right.
    x = np.arange(1.0, 6.0).reshape(1, 5, 1)
    kernel = np.array([1.0, 10.0]).reshape(2, 1, 1)
    y = _reference.conv1d(x, kernel, padding="same")
    assert y.ravel().tolist() == [21.0, 32.0, 43.0, 54.0, 5.0]
    y = _reference.conv1d(x, kernel, padding="causal")
    assert y.ravel().tolist() == [10.0, 21.0, 32.0, 43.0, 54.0]
    assert _reference.pads(10, 3, 2, "same", 1) == (0, 1)
    assert _reference.pads(7, 4, 1, "same", 1) == (1, 2)


def test_keras_docs_example():
    rng = np.random.default_rng(7)
    x = rng.random((4, 10, 128))  # float64, as np.random.rand gives: converted to float32
    layer = conv1d.Conv1D(32, 3, activation="relu")
    assert not layer.built
    y = layer(x)
    assert layer.built and layer.input_channels == 128
    assert y.shape == (4, 8, 32) and y.dtype == np.float32
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 128, 32) and bias.shape == (32,)
    assert layer.count_params() == 12320
    check_close(y, _reference.conv1d(x.astype(np.float32), kernel, bias, activation="relu"))
    assert np.all(y >= 0.0) and np.any(y > 0.0)


GEOMETRIES = [
    # (padding, strides, dilation_rate, kernel_size, groups)
    (padding, strides, dilation, kernel_size, groups)
    for padding, (strides, dilation), kernel_size, groups in itertools.product(
        ["valid", "same", "causal"], [(1, 1), (2, 1), (3, 1), (1, 2), (1, 3)], [1, 2, 3, 4], [1, 2]
    )
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("padding,strides,dilation_rate,kernel_size,groups", GEOMETRIES)
def test_geometry_matches_reference(padding, strides, dilation_rate, kernel_size, groups, data_format):
    case = (padding, strides, dilation_rate, kernel_size, groups, data_format)
    rng = np.random.default_rng(zlib.crc32(repr(case).encode()))
    channels, filters, steps = 6, 4, 13
    x, kernel, bias = random_layer_data(rng, 2, steps, channels, kernel_size, filters, groups, data_format)
    layer = conv1d.Conv1D(filters, (kernel_size,), strides=[strides], padding=padding, data_format=data_format,
                          dilation_rate=dilation_rate, groups=groups)
    layer.set_weights([kernel, bias])
    y = layer(x)
    expected = _reference.conv1d(x, kernel, bias, strides, padding, dilation_rate, groups, data_format)
    check_close(y, expected)
    assert layer.compute_output_shape(x.shape) == expected.shape
    assert layer.padding_amounts(steps) == _reference.pads(steps, kernel_size, strides, padding, dilation_rate)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_depthwise_and_wide_groups(data_format):
    rng = np.random.default_rng(11)
    for channels, filters, groups in [(8, 8, 8), (8, 16, 8), (12, 6, 3)]:
        x, kernel, bias = random_layer_data(rng, 3, 17, channels, 3, filters, groups, data_format)
        layer = conv1d.Conv1D(filters, 3, padding="same", groups=groups, data_format=data_format)
        layer.set_weights([kernel, bias])
        check_close(layer(x), _reference.conv1d(x, kernel, bias, padding="same", groups=groups,
                                                data_format=data_format))


@pytest.mark.parametrize("use_bias", [True, False])
def test_bias_is_added_only_with_use_bias(use_bias):
    rng = np.random.default_rng(3)
    x, kernel, bias = random_layer_data(rng, 2, 9, 5, 3, 7, 1)
    layer = conv1d.Conv1D(7, 3, use_bias=use_bias)
    layer.set_weights([kernel, bias] if use_bias else [kernel])
    check_close(layer(x), _reference.conv1d(x, kernel, bias if use_bias else None))


@pytest.mark.parametrize("activation", sorted(set(_reference.ACTIVATIONS) - {None}) + ["softmax", "glu"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_activations(activation, data_format):
    rng = np.random.default_rng(5)
    x, kernel, bias = random_layer_data(rng, 2, 12, 6, 3, 8, 1, data_format)
    layer = conv1d.Conv1D(8, 3, padding="causal", activation=activation, data_format=data_format)
    layer.set_weights([kernel, bias])
    expected = _reference.conv1d(x, kernel, bias, padding="causal", data_format=data_format, activation=activation)
    y = layer(x)
    check_close(y, expected)
    assert layer.compute_output_shape(x.shape) == y.shape
    assert layer.compute_output_shape((None, None, 6) if data_format == "channels_last" else (None, 6, None)) == (
        (None, None, 4 if activation == "glu" else 8) if data_format == "channels_last" else (None, 8, None))
    if activation == "glu":  # halves the last axis: filters, or time with channels_first
        assert y.shape == ((2, 12, 4) if data_format == "channels_last" else (2, 8, 6))


def test_activation_none_is_linear():
    rng = np.random.default_rng(8)
    x, kernel, bias = random_layer_data(rng, 1, 6, 2, 2, 3, 1)
    layer = conv1d.Conv1D(3, 2, activation=None)
    layer.set_weights([kernel, bias])
    assert layer.activation == "linear"
    y = layer(x)
    assert np.any(y < 0.0)
    check_close(y, _reference.conv1d(x, kernel, bias))


def test_lazy_build_reads_the_channel_axis_of_the_data_format():
    x = np.ones((2, 5, 9), dtype=np.float32)  # channels_first: 5 channels, 9 steps
    layer = conv1d.Conv1D(4, 3, data_format="channels_first")
    y = layer(x)
    assert layer.input_channels == 5 and y.shape == (2, 4, 7)
    assert layer.kernel.shape == (3, 5, 4)
    assert layer.get_build_config() == {"input_shape": (2, 5, 9)}


def test_inputs_are_converted_and_strided_views_accepted():
    rng = np.random.default_rng(9)
    x64 = rng.standard_normal((3, 11, 4))
    layer = conv1d.Conv1D(5, 3, padding="same", seed=1)
    y64 = layer(x64)
    x32 = x64.astype(np.float32)
    y32 = layer(x32)
    assert np.array_equal(y64, y32)
    # A non-contiguous view (every other step) gives what its contiguous copy gives.
    wide = rng.standard_normal((3, 22, 4)).astype(np.float32)
    view = wide[:, ::2, :]
    assert not view.flags["C_CONTIGUOUS"]
    assert np.array_equal(layer(view), layer(np.ascontiguousarray(view)))
    # Nested lists and integers are numbers too.
    ints = np.arange(3 * 11 * 4).reshape(3, 11, 4) % 5
    assert np.array_equal(layer(ints.tolist()), layer(ints.astype(np.float32)))
    # float16 is widened.
    assert np.array_equal(layer(x32.astype(np.float16)), layer(x32.astype(np.float16).astype(np.float32)))
    kernel, bias = layer.get_weights()
    check_close(y32, _reference.conv1d(x32, kernel, bias, padding="same"))


def test_float32_contiguous_inputs_are_not_copied():
    from conv1d.layer import _float32_input

    x = np.ones((2, 5, 3), dtype=np.float32)
    assert _float32_input(x, "x") is x
    view = np.ones((4, 5, 3), dtype=np.float32)[1:3]  # contiguous slice: still no copy
    assert np.shares_memory(_float32_input(view, "x"), view)
    assert not np.shares_memory(_float32_input(x.astype(np.float64), "x"), x)


def test_input_rank_must_be_three():
    layer = conv1d.Conv1D(2, 1)
    with pytest.raises(ValueError, match="expected ndim=3"):
        layer(np.ones((4, 3), dtype=np.float32))
    with pytest.raises(TypeError):
        layer(np.ones((1, 2, 3), dtype=np.complex64))


@pytest.mark.parametrize("algorithm", ["reference", "direct", "gemm", "auto"])
def test_every_algorithm_and_isa_matches(algorithm):
    rng = np.random.default_rng(21)
    x, kernel, bias = random_layer_data(rng, 2, 31, 16, 5, 24, 1)
    expected = _reference.conv1d(x, kernel, bias, padding="same", activation="tanh")
    for isa in ["scalar", "avx2", "avx512"]:
        layer = conv1d.Conv1D(24, 5, padding="same", activation="tanh", algorithm=algorithm, max_isa=isa,
                              num_threads=1)
        layer.set_weights([kernel, bias])
        assert layer.algorithm == algorithm
        assert layer.max_isa in ("scalar", "avx2", "avx512")  # capped by what the CPU has
        check_close(layer(x), expected)
        if algorithm != "auto":
            assert layer.query_algorithm(2, 31) == algorithm
        assert "batch=2 steps=31" in layer.describe_plan(2, 31)


def test_threads_share_one_layer():
    rng = np.random.default_rng(4)
    layer = conv1d.Conv1D(16, 3, padding="same", activation="relu", seed=5, num_threads=1)
    inputs = [rng.standard_normal((2, 40, 8)).astype(np.float32) for _ in range(6)]
    layer.build((None, None, 8))
    kernel, bias = layer.get_weights()
    results = [None] * len(inputs)

    def run(i):
        for _ in range(20):
            results[i] = layer(inputs[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for x, y in zip(inputs, results):
        check_close(y, _reference.conv1d(x, kernel, bias, padding="same", activation="relu"))
