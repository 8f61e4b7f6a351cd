"""Every failing C call raises a conv1d.Conv1DError subclass carrying the
library's status and message; a failed call leaves the layer usable."""

import os
import subprocess
import sys

import numpy as np
import pytest

import conv1d
from conv1d import Status


def raises(exc_type, status, *message_parts):
    """Context manager: the block raises exc_type with this status and a
    message containing each part (the library's wording)."""

    class Checker:
        def __enter__(self):
            self.ctx = pytest.raises(exc_type)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            suppress = self.ctx.__exit__(*exc)
            error = self.info.value
            assert isinstance(error, conv1d.Conv1DError)
            assert error.status == status, (error.status, status)
            assert str(error) == error.message and error.message
            for part in message_parts:
                assert part in error.message, (part, error.message)
            return suppress

    return Checker()


@pytest.mark.parametrize("filters", [0, -3])
def test_bad_filters(filters):
    with raises(ValueError, Status.INVALID_SIZE, "Invalid value for argument `filters`",
                "Received filters=%d" % filters) as info:
        conv1d.Conv1D(filters, 3)
    assert isinstance(info.value, conv1d.InvalidArgumentError)
    assert info.value.status_string == "size must be positive"


def test_bad_geometry_arguments():
    with raises(ValueError, Status.INVALID_SIZE, "`kernel_size`", "value > 0"):
        conv1d.Conv1D(4, 0)
    with raises(ValueError, Status.INVALID_SIZE, "`strides`"):
        conv1d.Conv1D(4, 3, strides=(0,))
    with raises(ValueError, Status.STRIDES_WITH_DILATION, "`strides > 1` not supported", "dilation_rate=(2,)"):
        conv1d.Conv1D(4, 3, strides=2, dilation_rate=2)
    with raises(ValueError, Status.GROUPS_MISMATCH, "evenly divisible", "groups=3, filters=4"):
        conv1d.Conv1D(4, 3, groups=3)
    with raises(conv1d.UnknownNameError, Status.UNKNOWN_NAME, "Received: full"):
        conv1d.Conv1D(4, 3, padding="full")
    with raises(conv1d.UnknownNameError, Status.UNKNOWN_NAME, "data_format=nwc"):
        conv1d.Conv1D(4, 3, data_format="nwc")
    with raises(ValueError, Status.INVALID_VALUE, "cannot contain character `/`"):
        conv1d.Conv1D(4, 3, name="a/b")


def test_tuple_arguments_are_standardized_like_keras():
    layer = conv1d.Conv1D(4, [3], strides=(2,), dilation_rate=1, padding="SAME")
    assert (layer.kernel_size, layer.strides, layer.dilation_rate, layer.padding) == ((3,), (2,), (1,), "same")
    for bad in [(3, 3), 3.0, "3", (3.5,)]:
        with pytest.raises(ValueError, match="tuple of 1 integers"):
            conv1d.Conv1D(4, bad)
    with pytest.raises(ValueError, match="padding"):
        conv1d.Conv1D(4, 3, padding=(1, 1))


def test_unknown_and_unsupported_names():
    with raises(conv1d.UnknownNameError, Status.UNKNOWN_NAME, "'Relu'", "did you mean 'relu'"):
        conv1d.Conv1D(4, 3, activation="Relu")
    with raises(NotImplementedError, Status.UNSUPPORTED, "threshold") as info:
        conv1d.Conv1D(4, 3, activation="threshold")
    assert isinstance(info.value, conv1d.UnsupportedError)
    with raises(conv1d.UnknownNameError, Status.UNKNOWN_NAME, "unknown algorithm 'fast'"):
        conv1d.Conv1D(4, 3, algorithm="fast")
    with raises(conv1d.UnknownNameError, Status.UNKNOWN_NAME, "'sse'"):
        conv1d.Conv1D(4, 3, max_isa="sse")
    with raises(ValueError, Status.INVALID_VALUE, "num_threads", "received -1"):
        conv1d.Conv1D(4, 3, num_threads=-1)


def test_initializer_errors():
    with raises(conv1d.ParseError, Status.PARSE, "parse error"):
        conv1d.Conv1D(4, 3, kernel_initializer="{bad")
    with raises(ValueError, Status.INVALID_VALUE, "`scale` must be positive"):
        conv1d.Conv1D(4, 3, kernel_initializer={"class_name": "VarianceScaling", "config": {"scale": -1}})
    layer = conv1d.Conv1D(4, 3, kernel_initializer="identity")  # Keras resolves it, then fails at build
    with raises(NotImplementedError, Status.UNSUPPORTED, "Identity matrix initializer", "rank 3"):
        layer.build((None, 10, 6))
    assert not layer.built
    with pytest.raises(TypeError):
        conv1d.Conv1D(4, 3, kernel_initializer=object())


def test_wrong_channel_count_after_build():
    layer = conv1d.Conv1D(32, 3, activation="relu")
    y = layer(np.ones((4, 10, 128), dtype=np.float32))
    with raises(conv1d.ShapeMismatchError, Status.CHANNELS_MISMATCH, "Input 0 of layer \"conv1d\" is incompatible",
                "expected axis -1 of input shape to have value 128", "(4, 10, 64)"):
        layer(np.ones((4, 10, 64), dtype=np.float32))
    # The failed call changed nothing.
    assert np.array_equal(layer(np.ones((4, 10, 128), dtype=np.float32)), y)


def test_build_errors():
    layer = conv1d.Conv1D(4, 3, groups=2)
    with raises(ValueError, Status.GROUPS_MISMATCH, "input channels must be evenly divisible", "5 channels"):
        layer.build((None, 10, 5))
    with raises(ValueError, Status.EMPTY_OUTPUT, "zero or negative", "steps=2"):
        layer.build((None, 2, 6))
    assert not layer.built
    with raises(ValueError, Status.EMPTY_OUTPUT, "zero or negative"):
        layer(np.ones((1, 2, 6), dtype=np.float32))
    with pytest.raises(ValueError, match="channel dimension"):
        layer.build((None, 10, None))
    with raises(ValueError, Status.INVALID_SIZE):
        layer(np.ones((0, 10, 6), dtype=np.float32))


def test_wrong_weight_shapes():
    layer = conv1d.Conv1D(4, 3)
    layer.build((None, None, 5))
    kernel, bias = layer.get_weights()
    with raises(conv1d.ShapeMismatchError, Status.LENGTH_MISMATCH, "kernel_len=48", "needs exactly 60 floats",
                "(3, 5, 4)"):
        layer.set_weights([np.zeros((3, 4, 4)), bias])
    with raises(conv1d.ShapeMismatchError, Status.LENGTH_MISMATCH, "bias_len=3", "needs exactly filters=4"):
        layer.set_weights([kernel, np.zeros(3)])
    with raises(conv1d.ShapeMismatchError, Status.LENGTH_MISMATCH, "bias_len=0"):
        layer.set_weights([kernel])
    # Right length, wrong axes: the binding catches what a length cannot show.
    with pytest.raises(ValueError, match=r"\(3, 4, 5\)"):
        layer.set_weights([np.zeros((3, 4, 5)), bias])
    with pytest.raises(ValueError, match="rank 3"):
        layer.set_weights([np.zeros(60), bias])
    with pytest.raises(ValueError, match="rank 1"):
        layer.set_weights([kernel, bias.reshape(2, 2)])
    with pytest.raises(ValueError, match="kernel, bias"):
        layer.set_weights([kernel, bias, bias])
    # None of those changed the weights.
    after = layer.get_weights()
    assert np.array_equal(after[0], kernel) and np.array_equal(after[1], bias)

    no_bias = conv1d.Conv1D(4, 3, use_bias=False)
    with raises(ValueError, Status.INVALID_VALUE, "use_bias"):
        no_bias.set_weights([kernel, bias])
    with raises(conv1d.ShapeMismatchError, Status.LENGTH_MISMATCH, "not a positive multiple"):
        no_bias.set_weights([np.zeros((3, 5, 3))])
    assert not no_bias.built


def test_shape_fixed_after_build():
    layer = conv1d.Conv1D(4, 3)
    layer.build((None, None, 2))
    with raises(conv1d.StateError, Status.INVALID_STATE, "after it is built"):
        layer._set_int(conv1d.Param.FILTERS, 8)
    assert isinstance(conv1d.StateError("m", Status.INVALID_STATE), RuntimeError)
    with raises(conv1d.WrongTypeError, Status.WRONG_TYPE, "not a string") as info:
        layer._get_text(conv1d.Param.FILTERS)
    assert isinstance(info.value, TypeError)


def test_training_argument_errors_carry_the_library_message():
    with raises(conv1d.UnknownNameError, Status.UNKNOWN_NAME, "Could not interpret regularizer identifier: l1_l2"):
        conv1d.Conv1D(4, 3, kernel_regularizer="l1_l2")  # not a Keras name, whatever Keras' docstring says
    with raises(ValueError, Status.INVALID_VALUE, "l2", "non-negative"):
        conv1d.Conv1D(4, 3, bias_regularizer={"class_name": "L2", "config": {"l2": -1}})
    with raises(conv1d.UnknownNameError, Status.UNKNOWN_NAME, "max_nrom"):
        conv1d.Conv1D(4, 3, kernel_constraint="max_nrom")
    with raises(ValueError, Status.INVALID_VALUE, "lora_rank", "received -1"):
        conv1d.Conv1D(4, 3, lora_rank=-1)
    with raises(ValueError, Status.INVALID_VALUE, "lora_alpha must be finite"):
        conv1d.Conv1D(4, 3, lora_alpha=float("inf"))
    for argument in ["kernel_regularizer", "bias_constraint", "activity_regularizer"]:
        with pytest.raises(TypeError, match=argument):
            conv1d.Conv1D(4, 3, **{argument: 0.01})  # objects are names or serialized dicts
    with pytest.raises(TypeError, match="lora_rank"):
        conv1d.Conv1D(4, 3, lora_rank=2.0)
    with raises(NotImplementedError, Status.UNSUPPORTED, "dtype policy 'float16'"):
        conv1d.Conv1D(4, 3, dtype="float16")


def test_lora_errors_follow_keras():
    constrained = conv1d.Conv1D(4, 3, kernel_constraint="max_norm", lora_rank=2)
    with raises(conv1d.StateError, Status.INVALID_STATE, "Lora is incompatible with kernel constraints"):
        constrained.build((None, None, 3))  # Keras' build() enables LoRA, and refuses here
    assert not constrained.built
    with pytest.raises(ValueError, match="isn't yet built"):
        conv1d.Conv1D(4, 3).enable_lora(2)
    layer = conv1d.Conv1D(4, 3)
    layer.build((None, None, 3))
    with raises(conv1d.StateError, Status.INVALID_STATE, "does not have LoRA enabled"):
        layer.merge_lora()
    with pytest.raises(NotImplementedError, match="b_initializer"):
        layer.enable_lora(2, b_initializer="ones")
    assert not layer.lora_enabled
    layer.enable_lora(2)
    with raises(conv1d.StateError, Status.INVALID_STATE, "lora is already enabled"):
        layer.enable_lora(3)
    assert layer.lora_rank == 2 and len(layer.weights) == 4
    with pytest.raises(ValueError, match="expects 4 arrays"):
        layer.set_weights(layer.get_weights()[:2])


def test_training_call_errors():
    layer = conv1d.Conv1D(4, 3, kernel_regularizer="orthogonal_regularizer")
    x = np.ones((2, 6, 3), dtype=np.float32)
    with raises(conv1d.StateError, Status.NOT_BUILT, "has no weights yet"):
        layer.backward(x, np.ones((2, 4, 4)))
    y = layer(x)
    with raises(NotImplementedError, Status.UNSUPPORTED, "OrthogonalRegularizer must have rank 2"):
        layer.regularization_loss()
    with raises(NotImplementedError, Status.UNSUPPORTED, "OrthogonalRegularizer"):
        layer.backward(x, np.ones_like(y), regularizers=True)
    layer.backward(x, np.ones_like(y))  # without the penalties' gradients it works
    with pytest.raises(ValueError, match=r"dy has shape \(2, 4, 3\)"):
        layer.backward(x, np.ones((2, 4, 3)))
    with pytest.raises(ValueError, match="not an output shape"):
        layer.regularization_loss(np.ones((2, 5, 3)))
    with pytest.raises(ValueError, match="accumulate=True"):
        layer.backward(x, np.ones_like(y), accumulate=True)
    dx, grads = layer.backward(x, np.ones_like(y))
    with pytest.raises(TypeError, match="float32"):
        layer.backward(x, np.ones_like(y), out=(dx.astype(np.float64), grads))
    with pytest.raises(ValueError, match="no grads\\['bias'\\]"):
        layer.backward(x, np.ones_like(y), out=(dx, {"kernel": grads["kernel"]}))
    bad_axis = conv1d.Conv1D(4, 3, kernel_constraint={"class_name": "MaxNorm", "config": {"axis": 5}})
    bad_axis.build((None, None, 3))
    before = bad_axis.get_weights()
    with raises(ValueError, Status.INVALID_VALUE, "axis 5 is out of bounds", "(3, 3, 4)"):
        bad_axis.apply_constraints()
    assert all(np.array_equal(a, b) for a, b in zip(before, bad_axis.get_weights()))
    with pytest.raises(ValueError, match=r"kernel has shape \(3, 4, 3\)"):
        bad_axis.weights[0].assign(np.zeros((3, 4, 3)))


def test_kernel_before_build_and_closed_layer():
    layer = conv1d.Conv1D(4, 3)
    with pytest.raises(AttributeError, match="build the layer"):
        layer.kernel
    assert layer.get_weights() == []
    with conv1d.Conv1D(2, 1) as scoped:
        scoped(np.ones((1, 3, 2), dtype=np.float32))
    assert scoped.closed
    with pytest.raises(ValueError, match="closed"):
        scoped(np.ones((1, 3, 2), dtype=np.float32))
    scoped.close()  # twice is fine


def test_every_status_maps_to_a_python_exception():
    expected = {
        Status.NULL_POINTER: ValueError,
        Status.INVALID_VALUE: ValueError,
        Status.UNKNOWN_NAME: ValueError,
        Status.UNKNOWN_PARAMETER: ValueError,
        Status.WRONG_TYPE: TypeError,
        Status.INVALID_SIZE: ValueError,
        Status.SIZE_OVERFLOW: OverflowError,
        Status.BUFFER_TOO_SMALL: ValueError,
        Status.STRIDES_WITH_DILATION: ValueError,
        Status.GROUPS_MISMATCH: ValueError,
        Status.EMPTY_OUTPUT: ValueError,
        Status.CHANNELS_MISMATCH: ValueError,
        Status.NOT_BUILT: RuntimeError,
        Status.INVALID_STATE: RuntimeError,
        Status.UNSUPPORTED: NotImplementedError,
        Status.PARSE: ValueError,
        Status.OUT_OF_MEMORY: MemoryError,
        Status.IO: OSError,
        Status.INTERNAL: RuntimeError,
        Status.LENGTH_MISMATCH: ValueError,
    }
    assert set(expected) == set(Status) - {Status.OK}
    lib = conv1d.load_library()
    conv1d.Conv1D(1, 1).close()  # a successful call clears the thread's last message
    for status, base in expected.items():
        error = lib.error(status)  # no message: the status text stands in
        assert isinstance(error, conv1d.Conv1DError) and isinstance(error, base), status
        assert error.status is status
        assert error.message == error.status_string == lib.status_string(status).decode()
    unknown = conv1d.errors.error_for_status(99, "from a newer library")
    assert type(unknown) is conv1d.Conv1DError and unknown.status == 99


def test_an_explicit_library_path_that_fails_is_reported():
    env = dict(os.environ, CONV1D_LIBRARY="/nonexistent/libconv1d.so.1")
    run = subprocess.run([sys.executable, "-c", "import conv1d; conv1d.Conv1D(1, 1)"], env=env,
                         capture_output=True, text=True)
    assert run.returncode != 0
    assert "ImportError: cannot load libconv1d" in run.stderr
    assert "/nonexistent/libconv1d.so.1" in run.stderr and "CONV1D_LIBRARY" in run.stderr
