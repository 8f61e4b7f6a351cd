"""The Keras-like ``Conv1D`` class over libconv1d's opaque layer handle."""

import ctypes
import enum
import json
import numbers
import threading

import numpy as np

from . import _native
from ._native import FloatPtr, LayerPtr


class Param(enum.IntEnum):
    """``conv1d_param`` values (include/conv1d/conv1d.h). Never renumbered."""

    FILTERS = 100
    KERNEL_SIZE = 101
    STRIDES = 102
    DILATION_RATE = 103
    GROUPS = 104
    PADDING = 105
    DATA_FORMAT = 106
    USE_BIAS = 107
    IN_CHANNELS = 108
    ACTIVATION = 200
    KERNEL_INITIALIZER = 201
    BIAS_INITIALIZER = 202
    SEED = 203
    # 300-399 are reserved by the C API for training: regularizers,
    # constraints and LoRA. They get Param values here when the library
    # defines them.
    ALGORITHM = 400
    VERBOSE = 401
    NUM_THREADS = 402
    MAX_ISA = 403
    FIND = 404
    NAME = 500


# Keras arguments the C API cannot express yet. Each must be None (its Keras
# default); anything else raises NotImplementedError rather than being
# silently ignored.
# TODO(training): when conv1d.h gains parameters 300-399 and conv1d_backward,
# set these through _set_text (JSON like the initializers), report them in
# get_config(), and add Conv1D.backward(x, dy) next to call() using
# _float32_input() for x and dy and np.empty outputs for dx, dkernel, dbias.
_TRAINING_ARGUMENTS = (
    "kernel_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "bias_constraint",
    "lora_rank",
    "lora_alpha",
)

_DTYPE_POLICY = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}


def _one_tuple(value, name):
    """Keras' standardize_tuple(value, 1, name), returning the int.

    Values <= 0 are passed on: the library refuses them with Keras' message."""
    if isinstance(value, numbers.Integral):
        return int(value)
    try:
        items = tuple(value)
    except TypeError:
        raise ValueError("The `%s` argument must be a tuple of 1 integers. Received %s=%r" % (name, name, value))
    if len(items) != 1:
        raise ValueError("The `%s` argument must be a tuple of 1 integers. Received %s=%r" % (name, name, value))
    item = items[0]
    try:
        number = int(item)
    except (TypeError, ValueError):
        raise ValueError("The `%s` argument must be a tuple of 1 integers. Received %s=%r" % (name, name, value))
    if number != item:
        raise ValueError("The `%s` argument must be a tuple of 1 integers. Received %s=%r" % (name, name, value))
    return number


def _float32_input(array, what):
    """``array`` as a C-contiguous, aligned float32 ndarray, copied only when
    its dtype or layout requires it."""
    a = np.asarray(array)
    if a.dtype.kind not in "fiub":
        raise TypeError("%s must hold real numbers, got dtype %s" % (what, a.dtype))
    return np.require(a, dtype=np.float32, requirements=["C_CONTIGUOUS", "ALIGNED"])


def _float_ptr(array):
    return array.ctypes.data_as(FloatPtr)


def _dtype_name(dtype):
    """The float32 policy name from a Keras dtype argument, or an error."""
    if dtype is None:
        return "float32"
    if isinstance(dtype, dict):  # a serialized DTypePolicy, as get_config() writes it
        name = dtype.get("config", {}).get("name") if dtype.get("class_name") == "DTypePolicy" else None
    else:
        name = getattr(dtype, "name", dtype)
    if name != "float32":
        raise NotImplementedError("libconv1d computes in float32 only; dtype=%r is not supported" % (dtype,))
    return name


class Conv1D:
    """``keras.layers.Conv1D`` computed by libconv1d.

    The positional and keyword arguments are Keras' (see the Keras docs);
    ``kernel_size``, ``strides`` and ``dilation_rate`` take an int or a
    1-tuple/list; initializers take a Keras name or a serialized Keras object
    (a dict, passed to the library as JSON); ``activation`` takes a Keras
    activation name or None. The Keras training arguments (regularizers,
    constraints, LoRA) must be None until the library supports them.

    Keyword-only extras, not part of the Keras config:
        seed: seed for initializers that have none (None: random).
        algorithm: "auto", "reference", "direct" or "gemm".
        num_threads: threads one call may use (0: all available cores).
        max_isa: "scalar", "avx2" or "avx512": highest instruction set used.
        verbose: print each new plan to stderr.
        find: with algorithm "auto", time the candidates once per shape.
    Each is also a settable attribute. None keeps the library's default
    (which the environment variables of the README may set).

    A layer owns a C handle: it is freed by ``close()``, by leaving a ``with``
    block, or when the object is garbage-collected. ``call`` may run on one
    layer from many threads at once; anything that changes the layer
    (``build``, ``set_weights``, setting an attribute) must not run
    concurrently with another call on it.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        *,
        name=None,
        trainable=True,
        dtype=None,
        lora_rank=None,
        lora_alpha=None,
        seed=None,
        algorithm=None,
        num_threads=None,
        max_isa=None,
        verbose=None,
        find=None,
    ):
        self._handle = None
        self._lib = _native.lib()
        self._build_lock = threading.Lock()
        self._build_input_shape = None
        given = locals()
        for argument in _TRAINING_ARGUMENTS:
            if given[argument] is not None:
                raise NotImplementedError(
                    "Conv1D(%s=...) is not supported yet: this binding wraps the forward API of "
                    "libconv1d 1.0, which has no regularizers, constraints or LoRA" % argument
                )
        _dtype_name(dtype)
        if filters is None or isinstance(filters, bool) or not isinstance(filters, numbers.Integral):
            raise TypeError("filters must be an int, got %r" % (filters,))
        kernel = _one_tuple(kernel_size, "kernel_size")
        stride = _one_tuple(strides, "strides")
        dilation = _one_tuple(dilation_rate, "dilation_rate")
        if not isinstance(padding, str):
            raise ValueError("The `padding` argument must be one of 'valid', 'same', 'causal'. Received: %r" % (
                padding,))
        if activation is not None and not isinstance(activation, str):
            raise NotImplementedError("activation must be a Keras activation name or None; callables are not supported")
        self.trainable = bool(trainable)

        handle = LayerPtr()
        self._lib.create(int(filters), kernel, ctypes.byref(handle))
        self._handle = handle
        # Every later failure raises with the handle owned by self, so it is freed.
        self._set_int(Param.STRIDES, stride)
        self._set_int(Param.DILATION_RATE, dilation)
        self._set_int(Param.GROUPS, groups)
        self._set_text(Param.PADDING, padding)
        if data_format is not None:
            self._set_text(Param.DATA_FORMAT, str(data_format))
        self._set_text(Param.ACTIVATION, "linear" if activation is None else activation)
        self._set_int(Param.USE_BIAS, 1 if use_bias else 0)
        self._set_initializer(Param.KERNEL_INITIALIZER, kernel_initializer)
        self._set_initializer(Param.BIAS_INITIALIZER, bias_initializer)
        if name is not None:
            self._set_text(Param.NAME, name)
        if seed is not None:
            self.seed = seed
        for knob, value in (
            ("algorithm", algorithm),
            ("num_threads", num_threads),
            ("max_isa", max_isa),
            ("verbose", verbose),
            ("find", find),
        ):
            if value is not None:
                setattr(self, knob, value)

    # ---- handle lifetime -------------------------------------------------

    def close(self):
        """Free the C layer now. The object is unusable afterwards."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._lib.destroy(handle)

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
            raise ValueError("operation on a closed Conv1D layer")
        return self._handle

    def __reduce__(self):
        # copy.copy, copy.deepcopy and pickle make a new handle with the same
        # configuration, execution settings and weights; never a shared one.
        weights = self.get_weights() if self.built else None
        return (_restore, (type(self), self.get_config(), self._execution_settings(), weights))

    # ---- parameters ------------------------------------------------------

    def _set_int(self, param, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError("%s must be an int, got %r" % (Param(param).name.lower(), value))
        self._lib.set_int(self._h(), param, int(value))

    def _get_int(self, param):
        value = ctypes.c_int64()
        self._lib.get_int(self._h(), param, ctypes.byref(value))
        return value.value

    def _set_text(self, param, text):
        if not isinstance(text, str):
            raise TypeError("%s must be a string, got %r" % (Param(param).name.lower(), text))
        self._lib.set_string(self._h(), param, text.encode("utf-8"))

    def _get_text(self, param):
        return self._lib.get_text(self._lib.get_string, self._h(), param)

    def _set_initializer(self, param, value):
        if value is None:
            text = "null"  # Keras' None: add_weight falls back to glorot_uniform
        elif isinstance(value, str):
            text = value
        elif isinstance(value, dict):
            text = json.dumps(value)
        else:
            raise TypeError(
                "initializers are Keras names or serialized Keras objects (dicts); got %r" % (value,)
            )
        self._set_text(param, text)

    filters = property(lambda self: self._get_int(Param.FILTERS))
    kernel_size = property(lambda self: (self._get_int(Param.KERNEL_SIZE),))
    strides = property(lambda self: (self._get_int(Param.STRIDES),))
    dilation_rate = property(lambda self: (self._get_int(Param.DILATION_RATE),))
    groups = property(lambda self: self._get_int(Param.GROUPS))
    padding = property(lambda self: self._get_text(Param.PADDING))
    data_format = property(lambda self: self._get_text(Param.DATA_FORMAT))
    activation = property(lambda self: self._get_text(Param.ACTIVATION), doc="The Keras activation name.")
    use_bias = property(lambda self: bool(self._get_int(Param.USE_BIAS)))
    name = property(lambda self: self._get_text(Param.NAME))
    kernel_initializer = property(lambda self: json.loads(self._get_text(Param.KERNEL_INITIALIZER)))
    bias_initializer = property(lambda self: json.loads(self._get_text(Param.BIAS_INITIALIZER)))
    dtype = property(lambda self: "float32")

    @property
    def seed(self):
        value = self._get_int(Param.SEED)
        return None if value < 0 else value

    @seed.setter
    def seed(self, value):
        self._set_int(Param.SEED, -1 if value is None else value)

    @property
    def algorithm(self):
        return self._get_text(Param.ALGORITHM)

    @algorithm.setter
    def algorithm(self, value):
        self._set_text(Param.ALGORITHM, value)

    @property
    def num_threads(self):
        return self._get_int(Param.NUM_THREADS)

    @num_threads.setter
    def num_threads(self, value):
        self._set_int(Param.NUM_THREADS, value)

    @property
    def max_isa(self):
        return self._get_text(Param.MAX_ISA)

    @max_isa.setter
    def max_isa(self, value):
        self._set_text(Param.MAX_ISA, value)

    @property
    def verbose(self):
        return bool(self._get_int(Param.VERBOSE))

    @verbose.setter
    def verbose(self, value):
        self._set_int(Param.VERBOSE, 1 if value else 0)

    @property
    def find(self):
        return bool(self._get_int(Param.FIND))

    @find.setter
    def find(self, value):
        self._set_int(Param.FIND, 1 if value else 0)

    def _execution_settings(self):
        return {
            "seed": self.seed,
            "algorithm": self.algorithm,
            "num_threads": self.num_threads,
            "max_isa": self.max_isa,
            "verbose": self.verbose,
            "find": self.find,
        }

    # ---- build and shapes ------------------------------------------------

    @property
    def built(self):
        return self._get_int(Param.IN_CHANNELS) > 0

    @property
    def input_channels(self):
        """Input channels the layer was built for, or None."""
        return self._get_int(Param.IN_CHANNELS) or None

    def _channels_last(self):
        return self._get_int(Param.DATA_FORMAT) == 0

    def _split_shape(self, shape, what):
        """(batch, steps, channels) of a rank-3 shape in the layer's data format."""
        shape = tuple(shape)
        if len(shape) != 3:
            raise ValueError(
                "Input 0 of layer %r is incompatible with the layer: expected ndim=3, found ndim=%d. "
                "Full %s: %r" % (self.name, len(shape), what, shape)
            )
        if self._channels_last():
            return shape[0], shape[1], shape[2]
        return shape[0], shape[2], shape[1]

    def build(self, input_shape):
        """Create the weights with the initializers for inputs of ``input_shape``
        (rank 3; batch and steps may be None), as Keras' build()."""
        _, steps, channels = self._split_shape(input_shape, "input shape")
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. Received input_shape=%r" % (
                tuple(input_shape),))
        if steps is not None:
            self.compute_output_shape(input_shape)  # refuses an empty output before any weight exists
        self._lib.build(self._h(), int(channels))
        self._build_input_shape = tuple(None if d is None else int(d) for d in input_shape)

    def get_build_config(self):
        """Keras' build config: {"input_shape": ...} once built, else None."""
        if not self.built:
            return None
        shape = self._build_input_shape
        if shape is None:  # built by set_weights: only the channels are known
            channels = self.input_channels
            shape = (None, None, channels) if self._channels_last() else (None, channels, None)
        return {"input_shape": shape}

    def build_from_config(self, config):
        if config and config.get("input_shape") is not None:
            self.build(config["input_shape"])

    def compute_output_shape(self, input_shape):
        """The shape ``call`` returns for ``input_shape``; None stays None.
        Unlike Keras' compute_output_shape this accounts for 'glu' halving
        the last axis, as the returned array does."""
        batch, steps, _ = self._split_shape(input_shape, "input shape")
        if steps is not None:
            shape = (ctypes.c_int64 * 3)()
            self._lib.output_shape(self._h(), 1 if batch is None else int(batch), int(steps), shape, None)
            return (batch,) + tuple(shape)[1:]
        filters = self.filters
        if not self._channels_last():
            return (batch, filters, None)
        if self.activation == "glu":
            if filters % 2:
                raise ValueError("activation 'glu' needs an even last axis; filters=%d" % filters)
            filters //= 2
        return (batch, None, filters)

    def padding_amounts(self, steps):
        """(left, right) zeros added to an input of ``steps`` steps."""
        left, right = ctypes.c_int64(), ctypes.c_int64()
        self._lib.padding_amounts(self._h(), int(steps), ctypes.byref(left), ctypes.byref(right))
        return left.value, right.value

    # ---- running ---------------------------------------------------------

    def __call__(self, inputs):
        return self.call(inputs)

    def call(self, inputs):
        """Run the layer on a rank-3 array in its data format; builds the layer
        from the channel axis on first use. Returns a new float32 ndarray."""
        x = _float32_input(inputs, "inputs")
        batch, steps, channels = self._split_shape(x.shape, "input shape")
        if not self.built:
            with self._build_lock:
                if not self.built:
                    self.build(x.shape)
        shape = (ctypes.c_int64 * 3)()
        count = ctypes.c_size_t()
        handle = self._h()
        self._lib.output_shape(handle, batch, steps, shape, ctypes.byref(count))
        y = np.empty(tuple(shape), dtype=np.float32)
        assert y.size == count.value
        self._lib.forward(handle, _float_ptr(x), x.size, batch, steps, channels, _float_ptr(y), y.size)
        return y

    def query_algorithm(self, batch, steps):
        """The algorithm name the layer runs for inputs of (batch, steps)."""
        algorithm = ctypes.c_int()
        self._lib.query_algorithm(self._h(), int(batch), int(steps), ctypes.byref(algorithm))
        return self._lib.algorithm_name(algorithm.value).decode()

    def describe_plan(self, batch, steps):
        """One line: the plan (algorithm, kernel, ISA, threads, why) for (batch, steps)."""
        return self._lib.get_text(self._lib.describe_plan, self._h(), int(batch), int(steps))

    # ---- weights ---------------------------------------------------------

    def _kernel_shape(self):
        return (self._get_int(Param.KERNEL_SIZE), self._get_int(Param.IN_CHANNELS) // self.groups, self.filters)

    def get_weights(self):
        """[kernel, bias] (or [kernel] without bias) as new float32 arrays in
        Keras layout; [] before the layer is built."""
        if not self.built:
            return []
        kernel = np.empty(self._kernel_shape(), dtype=np.float32)
        bias = np.empty((self.filters,), dtype=np.float32) if self.use_bias else None
        self._lib.get_weights(
            self._h(),
            _float_ptr(kernel),
            kernel.size,
            None if bias is None else _float_ptr(bias),
            0 if bias is None else bias.size,
        )
        return [kernel] if bias is None else [kernel, bias]

    def set_weights(self, weights):
        """Set [kernel, bias] (or [kernel] when use_bias is False) in Keras
        layout: kernel (kernel_size, in_channels/groups, filters), bias
        (filters,). On an unbuilt layer this builds it, the input channels
        following from the kernel. The data are copied."""
        weights = list(weights)
        if not 1 <= len(weights) <= 2:
            raise ValueError("set_weights expects [kernel, bias] or [kernel]; got %d arrays" % len(weights))
        kernel = _float32_input(weights[0], "kernel")
        bias = None if len(weights) < 2 or weights[1] is None else _float32_input(weights[1], "bias")
        if kernel.ndim != 3:
            raise ValueError("kernel must have rank 3 (kernel_size, in_channels/groups, filters); got shape %r" % (
                kernel.shape,))
        if bias is not None and bias.ndim != 1:
            raise ValueError("bias must have rank 1 (filters,); got shape %r" % (bias.shape,))
        # The library checks lengths (and names the exact length it needs);
        # a kernel of the right length but transposed axes is caught here.
        k, filters = self._get_int(Param.KERNEL_SIZE), self.filters
        if self.built:
            expected = self._kernel_shape()
            if kernel.size == int(np.prod(expected)) and kernel.shape != expected:
                raise ValueError("kernel has shape %r; layer %r needs %r" % (kernel.shape, self.name, expected))
        elif kernel.size % (k * filters) == 0 and (kernel.shape[0], kernel.shape[2]) != (k, filters):
            raise ValueError("kernel has shape %r; layer %r needs (%d, in_channels/groups, %d)" % (
                kernel.shape, self.name, k, filters))
        self._lib.set_weights(
            self._h(),
            _float_ptr(kernel),
            kernel.size,
            None if bias is None else _float_ptr(bias),
            0 if bias is None else bias.size,
        )

    @property
    def kernel(self):
        """A copy of the kernel, (kernel_size, in_channels/groups, filters)."""
        if not self.built:
            raise AttributeError("You must build the layer before accessing `kernel`.")
        return self.get_weights()[0]

    @property
    def bias(self):
        """A copy of the bias, (filters,), or None without use_bias."""
        if not self.built:
            raise AttributeError("You must build the layer before accessing `bias`.")
        return self.get_weights()[1] if self.use_bias else None

    def count_params(self):
        if not self.built:
            raise ValueError("You tried to call `count_params` on layer %r, but the layer isn't built." % self.name)
        kernel_len, bias_len = ctypes.c_size_t(), ctypes.c_size_t()
        self._lib.weight_sizes(self._h(), ctypes.byref(kernel_len), ctypes.byref(bias_len))
        return kernel_len.value + bias_len.value

    # ---- config ----------------------------------------------------------

    def get_config(self):
        """The Keras 3 get_config() dict, keys in Keras' order. The training
        entries are None: the library has none of them yet."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": json.loads(json.dumps(_DTYPE_POLICY)),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
            "bias_initializer": self.bias_initializer,
            "kernel_regularizer": None,
            "bias_regularizer": None,
            "activity_regularizer": None,
            "kernel_constraint": None,
            "bias_constraint": None,
        }

    @classmethod
    def from_config(cls, config):
        """A new unbuilt layer from a get_config() dict (ours or Keras')."""
        config = dict(config)
        if "dtype" in config:
            config["dtype"] = _dtype_name(config["dtype"])
        return cls(**config)

    def __repr__(self):
        if not self._handle:
            return "<conv1d.Conv1D (closed)>"
        return "<conv1d.Conv1D name=%r filters=%d kernel_size=%r %s>" % (
            self.name,
            self.filters,
            self.kernel_size,
            "in_channels=%d" % self.input_channels if self.built else "unbuilt",
        )


def _restore(cls, config, settings, weights):
    layer = cls.from_config(config)
    for knob, value in settings.items():
        setattr(layer, knob, value)
    if weights is not None:
        layer.set_weights(weights)
    return layer
