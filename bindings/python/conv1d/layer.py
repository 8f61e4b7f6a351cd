"""The Keras-like ``Conv1D`` class over libconv1d's opaque layer handle."""

import ctypes
import enum
import json
import math
import numbers
import os
import threading

import numpy as np

from . import _native
from ._native import (
    BACKWARD_ACCUMULATE,
    BACKWARD_REGULARIZERS,
    DTYPE_BFLOAT16,
    DTYPE_FLOAT32,
    DTYPE_FLOAT64,
    FloatPtr,
    LayerPtr,
)
from .errors import LibraryIOError


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
    KERNEL_REGULARIZER = 300
    BIAS_REGULARIZER = 301
    ACTIVITY_REGULARIZER = 302
    KERNEL_CONSTRAINT = 303
    BIAS_CONSTRAINT = 304
    LORA_RANK = 305
    LORA_ALPHA = 306
    TRAINABLE = 307
    ALGORITHM = 400
    VERBOSE = 401
    NUM_THREADS = 402
    MAX_ISA = 403
    FIND = 404
    NAME = 500
    DTYPE = 501
    VARIABLE_DTYPE = 502


class Weight(enum.IntEnum):
    """``conv1d_weight`` values: the layer's weights in Keras' order of creation."""

    KERNEL = 0
    BIAS = 1
    LORA_A = 2
    LORA_B = 3


# The Keras variable name of each weight (layer.weights[i].name).
WEIGHT_NAMES = {
    Weight.KERNEL: "kernel",
    Weight.BIAS: "bias",
    Weight.LORA_A: "lora_kernel_a",
    Weight.LORA_B: "lora_kernel_b",
}

_WEIGHT_OF_NAME = {name: which for which, name in WEIGHT_NAMES.items()}

# Keras arguments that name a Keras object (or give its serialized dict); the
# library takes the name or the JSON, and "null" for None.
_OBJECT_ARGUMENTS = (
    ("kernel_initializer", Param.KERNEL_INITIALIZER),
    ("bias_initializer", Param.BIAS_INITIALIZER),
    ("kernel_regularizer", Param.KERNEL_REGULARIZER),
    ("bias_regularizer", Param.BIAS_REGULARIZER),
    ("activity_regularizer", Param.ACTIVITY_REGULARIZER),
    ("kernel_constraint", Param.KERNEL_CONSTRAINT),
    ("bias_constraint", Param.BIAS_CONSTRAINT),
)

# get_config() entries Keras holds as tuples (JSON has only lists).
_TUPLE_KEYS = ("kernel_size", "strides", "dilation_rate")


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
    return _real_input(array, np.float32, what)


def _float_ptr(array):
    return array.ctypes.data_as(FloatPtr)


def _optional_ptr(array):
    return (None, 0) if array is None else (_float_ptr(array), array.size)


# conv1d_dtype values by numpy-ish name, and the numpy dtype of each buffer
# element (bfloat16 travels as the uint16 holding its bits).
_DTYPE_CODES = {"float32": DTYPE_FLOAT32, "float64": DTYPE_FLOAT64, "bfloat16": DTYPE_BFLOAT16}
_DTYPE_NAMES = {code: name for name, code in _DTYPE_CODES.items()}


def _dtype_name(dtype):
    """The policy name of a Keras dtype argument: a name, a serialized
    DTypePolicy (as get_config() writes it) or an object with ``.name`` (a
    Keras DTypePolicy, a numpy dtype). Whether the library knows the policy
    is left to the library, which says why not."""
    if isinstance(dtype, dict):
        config = dtype.get("config")
        name = config.get("name") if isinstance(config, dict) else None
        if not isinstance(name, str):
            raise ValueError("dtype: a serialized DTypePolicy has a config with a name; got %r" % (dtype,))
        return name
    name = dtype if isinstance(dtype, str) else getattr(dtype, "name", None)
    if not isinstance(name, str):
        raise TypeError("dtype must be a dtype policy name, a serialized DTypePolicy (a dict) or an object with a "
                        "`name` (a DTypePolicy); got %r" % (dtype,))
    return name


def _real_input(array, dtype, what):
    """``array`` as a C-contiguous, aligned ndarray of ``dtype``, copied only
    when its dtype or layout requires it."""
    a = np.asarray(array)
    if a.dtype.kind not in "fiub":
        raise TypeError("%s must hold real numbers, got dtype %s" % (what, a.dtype))
    return np.require(a, dtype=dtype, requirements=["C_CONTIGUOUS", "ALIGNED"])


def _bf16_bits_input(array, what):
    """A uint16 array of raw bfloat16 bits, as it is (no cast: any other
    dtype is refused, since its values would be read as bits)."""
    a = np.asarray(array)
    if a.dtype != np.uint16:
        raise TypeError("%s: bfloat16_bits=True takes a uint16 array of bfloat16 bits, got dtype %s" % (what, a.dtype))
    return np.require(a, requirements=["C_CONTIGUOUS", "ALIGNED"])


def _object_spec(value, what):
    """The string the library takes for a Keras object argument: a name, the
    JSON of a serialized object (a dict), or "null" for None."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return json.dumps(value, default=_json_default)
    raise TypeError(
        "%s must be a Keras name, a serialized Keras object (a dict) or None; got %r" % (what, value)
    )


def _json_default(value):
    """JSON for the numpy scalars and arrays a config dict may hold."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "name") and isinstance(getattr(value, "name"), str):  # a Keras DTypePolicy object
        return value.name
    raise TypeError("%r is not JSON serializable" % (value,))


def _path_argument(path, what="path"):
    """The bytes the C API takes for a file path: str (encoded as the file
    system encodes names), bytes or an os.PathLike."""
    try:
        raw = os.fsencode(os.fspath(path))
    except TypeError:
        raise TypeError("%s must be a str, bytes or os.PathLike object, not %s" % (what, type(path).__name__))
    if b"\0" in raw:
        raise ValueError("%s: embedded null byte" % what)
    return raw


def _weight_argument(which):
    """A Weight from a Keras variable name ("kernel", "bias", "lora_kernel_a",
    "lora_kernel_b") or a Weight."""
    if isinstance(which, str):
        if which in _WEIGHT_OF_NAME:
            return _WEIGHT_OF_NAME[which]
    elif isinstance(which, numbers.Integral) and not isinstance(which, bool):
        try:
            return Weight(which)
        except ValueError:
            pass
    else:
        raise TypeError("which must be a weight name or a conv1d.Weight, got %r" % (which,))
    raise ValueError("which must be one of %s (or a conv1d.Weight); got %r" % (
        ", ".join(repr(n) for n in WEIGHT_NAMES.values()), which))


def _keras_tuples(config):
    """A get_config() dict parsed from JSON, with Keras' tuples restored."""
    for key in _TUPLE_KEYS:
        if isinstance(config.get(key), list):
            config[key] = tuple(config[key])
    return config


class DTypePolicy:
    """A layer's dtype policy as Keras' ``layer.dtype_policy`` shows it: its
    ``name`` and the ``compute_dtype`` and ``variable_dtype`` it implies. It
    can be passed as another layer's ``dtype``."""

    __slots__ = ("name", "compute_dtype", "variable_dtype")

    def __init__(self, name, compute_dtype, variable_dtype):
        self.name = name
        self.compute_dtype = compute_dtype
        self.variable_dtype = variable_dtype

    def get_config(self):
        return {"name": self.name}

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return "<DTypePolicy %r>" % self.name


class Variable:
    """One weight of a layer, as Keras' ``layer.weights`` lists it: a live
    view of the weight inside the C layer, not a copy.

    ``numpy()`` copies the current value out; ``assign(value)`` writes a new
    value (same shape) into the layer, which is how an optimizer updates it.
    ``trainable`` is Keras' variable flag: the kernel is frozen while LoRA is
    on. Two Variables are equal when they name the same weight of the same
    layer.
    """

    __slots__ = ("_layer", "_which")

    def __init__(self, layer, which):
        self._layer = layer
        self._which = Weight(which)

    @property
    def name(self):
        """"kernel", "bias", "lora_kernel_a" or "lora_kernel_b"."""
        return WEIGHT_NAMES[self._which]

    @property
    def path(self):
        """"<layer name>/<weight name>", as Keras' variable path."""
        return "%s/%s" % (self._layer.name, self.name)

    @property
    def shape(self):
        return self._layer._weight_shape(self._which)

    @property
    def dtype(self):
        """How the weight is stored: the layer's variable dtype for the kernel
        and bias ("float32", "float64" or "bfloat16"), float32 for LoRA factors.
        ``numpy()`` gives float64 for float64 and float32 otherwise (numpy
        has no bfloat16; a bfloat16 weight's float32 values are exact)."""
        if self._which in (Weight.KERNEL, Weight.BIAS):
            return self._layer.variable_dtype
        return "float32"

    @property
    def trainable(self):
        return not (self._which == Weight.KERNEL and self._layer.lora_enabled)

    def numpy(self):
        """A copy of the weight's current value: float64 for a float64 layer's
        kernel and bias, float32 otherwise."""
        return self._layer._get_weight(self._which)

    def assign(self, value):
        """Replace the weight's value (an array of exactly its shape); the data are copied."""
        self._layer._set_weight(self._which, value)

    def __array__(self, dtype=None, copy=None):
        value = self.numpy()
        return value if dtype is None else value.astype(dtype)

    def __eq__(self, other):
        return isinstance(other, Variable) and other._layer is self._layer and other._which == self._which

    def __hash__(self):
        return hash((id(self._layer), int(self._which)))

    def __repr__(self):
        try:
            return "<conv1d.Variable path=%s shape=%r trainable=%s>" % (self.path, self.shape, self.trainable)
        except Exception:  # a closed layer, or a weight LoRA merging removed
            return "<conv1d.Variable %s (unavailable)>" % self.name


class Conv1D:
    """``keras.layers.Conv1D`` computed by libconv1d.

    The positional and keyword arguments are Keras' (see the Keras docs);
    ``kernel_size``, ``strides`` and ``dilation_rate`` take an int or a
    1-tuple/list; initializers, regularizers and constraints take a Keras
    name or a serialized Keras object (a dict, passed to the library as
    JSON), or None; ``activation`` takes a Keras activation name or None.
    ``trainable``, ``lora_rank`` and ``lora_alpha`` are keyword arguments, as
    in Keras, where they travel through ``**kwargs``.

    Keyword-only extras, not part of the Keras config:
        seed: seed for initializers that have none (None: random).
        algorithm: "auto", "reference", "direct" or "gemm".
        num_threads: threads one call may use (0: all available cores).
        max_isa: "scalar", "avx2" or "avx512": highest instruction set used.
        verbose: print each new plan to stderr.
        find: with algorithm "auto", time the candidates once per shape.
    Each is also a settable attribute. None keeps the library's default
    (which the environment variables of the README may set).

    Training: ``backward`` gives the gradients, ``regularization_loss`` the
    penalties Keras adds as ``layer.losses``, ``apply_constraints`` projects
    the weights as a Keras optimizer does after an update, and
    ``trainable_weights`` are :class:`Variable` views to update in place.

    A layer owns a C handle: it is freed by ``close()``, by leaving a ``with``
    block, or when the object is garbage-collected. ``call`` and ``backward``
    may run on one layer from many threads at once; anything that changes the
    layer (``build``, ``set_weights``, ``assign``, setting an attribute) must
    not run concurrently with another call on it.
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
        self._init_state()
        given = locals()
        policy = None if dtype is None else _dtype_name(dtype)
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
        objects = [(param, _object_spec(given[argument], argument)) for argument, param in _OBJECT_ARGUMENTS]
        if lora_rank is not None and (isinstance(lora_rank, bool) or not isinstance(lora_rank, numbers.Integral)):
            raise TypeError("lora_rank must be an int or None, got %r" % (lora_rank,))
        if lora_alpha is not None and (isinstance(lora_alpha, bool) or not isinstance(lora_alpha, numbers.Real)):
            raise TypeError("lora_alpha must be a number or None, got %r" % (lora_alpha,))

        handle = LayerPtr()
        self._lib.create(int(filters), kernel, ctypes.byref(handle))
        self._handle = handle
        # Every later failure raises with the handle owned by self, so it is freed.
        if policy is not None:
            self._set_policy(policy)  # first: the library refuses LoRA on a policy other than float32
        self._set_int(Param.STRIDES, stride)
        self._set_int(Param.DILATION_RATE, dilation)
        self._set_int(Param.GROUPS, groups)
        self._set_text(Param.PADDING, padding)
        if data_format is not None:
            self._set_text(Param.DATA_FORMAT, str(data_format))
        self._set_text(Param.ACTIVATION, "linear" if activation is None else activation)
        self._set_int(Param.USE_BIAS, 1 if use_bias else 0)
        for param, text in objects:
            self._set_text(param, text)
        if lora_rank is not None:
            self._set_int(Param.LORA_RANK, lora_rank)
        if lora_alpha is not None:
            self._lib.set_double(self._h(), Param.LORA_ALPHA, float(lora_alpha))
        self.trainable = trainable
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

    def _init_state(self):
        self._handle = None
        self._lib = _native.lib()
        self._build_lock = threading.Lock()
        self._build_input_shape = None

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

    def _get_double(self, param):
        value = ctypes.c_double()
        self._lib.get_double(self._h(), param, ctypes.byref(value))
        return value.value

    def _set_text(self, param, text):
        if not isinstance(text, str):
            raise TypeError("%s must be a string, got %r" % (Param(param).name.lower(), text))
        self._lib.set_string(self._h(), param, text.encode("utf-8"))

    def _get_text(self, param):
        return self._lib.get_text(self._lib.get_string, self._h(), param)

    def _get_object(self, param):
        return json.loads(self._get_text(param))

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
    kernel_initializer = property(lambda self: self._get_object(Param.KERNEL_INITIALIZER))
    bias_initializer = property(lambda self: self._get_object(Param.BIAS_INITIALIZER))
    kernel_regularizer = property(lambda self: self._get_object(Param.KERNEL_REGULARIZER),
                                  doc="The serialized Keras regularizer (a dict), or None.")
    bias_regularizer = property(lambda self: self._get_object(Param.BIAS_REGULARIZER))
    activity_regularizer = property(lambda self: self._get_object(Param.ACTIVITY_REGULARIZER))
    kernel_constraint = property(lambda self: self._get_object(Param.KERNEL_CONSTRAINT),
                                 doc="The serialized Keras constraint (a dict), or None.")
    bias_constraint = property(lambda self: self._get_object(Param.BIAS_CONSTRAINT))

    def _set_policy(self, name):
        if not self._lib.has_dtypes:
            if name == "float32":
                return
            self._lib.forward_ex()  # the stand-in raises UnsupportedError naming the missing function
        self._set_text(Param.DTYPE, name)

    def _compute_code(self):
        return self._get_int(Param.DTYPE) if self._lib.has_dtypes else DTYPE_FLOAT32

    def _variable_code(self):
        return self._get_int(Param.VARIABLE_DTYPE) if self._lib.has_dtypes else DTYPE_FLOAT32

    @property
    def dtype(self):
        """The dtype policy's name: "float32", "float64", "bfloat16" or
        "mixed_bfloat16" (Keras' ``layer.dtype_policy.name``; Keras'
        ``layer.dtype`` is the variable dtype, here ``variable_dtype``)."""
        return self._get_text(Param.DTYPE) if self._lib.has_dtypes else "float32"

    @property
    def dtype_policy(self):
        """A :class:`DTypePolicy` with the policy's name, compute and variable dtypes."""
        return DTypePolicy(self.dtype, self.compute_dtype, self.variable_dtype)

    @property
    def compute_dtype(self):
        """The dtype the layer computes in: "float32", "float64" or "bfloat16"."""
        return _DTYPE_NAMES[self._compute_code()]

    @property
    def variable_dtype(self):
        """The dtype the kernel and bias are stored in: "float32", "float64" or "bfloat16"."""
        return _DTYPE_NAMES[self._variable_code()]

    @property
    def trainable(self):
        """Keras' layer.trainable: False freezes every weight (no penalties, no constraints)."""
        return bool(self._get_int(Param.TRAINABLE))

    @trainable.setter
    def trainable(self, value):
        self._set_int(Param.TRAINABLE, 1 if value else 0)

    @property
    def lora_rank(self):
        """The LoRA rank, or None when LoRA is off."""
        return self._get_int(Param.LORA_RANK) or None

    @property
    def lora_alpha(self):
        """The LoRA scale numerator (the update is scaled by lora_alpha / lora_rank);
        the rank unless set, None when neither is."""
        alpha = self._get_double(Param.LORA_ALPHA)
        if alpha == 0.0 and not self._get_int(Param.LORA_RANK):
            return None
        return int(alpha) if alpha.is_integer() else alpha

    @property
    def lora_enabled(self):
        """True once the layer is built with LoRA on: the kernel is frozen and
        lora_kernel_a / lora_kernel_b are trained."""
        return self.built and self._get_int(Param.LORA_RANK) > 0

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
        (rank 3; batch and steps may be None), as Keras' build(). With
        ``lora_rank`` set, LoRA is enabled too, as Keras' build() does."""
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
            return (batch,) + self._output_shape(1 if batch is None else batch, steps)[1:]
        filters = self.filters
        if not self._channels_last():
            return (batch, filters, None)
        if self.activation == "glu":
            if filters % 2:
                raise ValueError("activation 'glu' needs an even last axis; filters=%d" % filters)
            filters //= 2
        return (batch, None, filters)

    def _output_shape(self, batch, steps):
        shape = (ctypes.c_int64 * 3)()
        self._lib.output_shape(self._h(), int(batch), int(steps), shape, None)
        return tuple(shape)

    def padding_amounts(self, steps):
        """(left, right) zeros added to an input of ``steps`` steps."""
        left, right = ctypes.c_int64(), ctypes.c_int64()
        self._lib.padding_amounts(self._h(), int(steps), ctypes.byref(left), ctypes.byref(right))
        return left.value, right.value

    # ---- running ---------------------------------------------------------

    def __call__(self, inputs, **kwargs):
        return self.call(inputs, **kwargs)

    def call(self, inputs, *, bfloat16_bits=False):
        """Run the layer on a rank-3 array in its data format; builds the layer
        from the channel axis on first use. Returns a new ndarray whose dtype
        follows the layer's compute dtype, as Keras autocasts inputs:

        - float32: float32 in and out (other real inputs are cast to float32);
        - float64: float64 in and out (other real inputs are cast to float64);
          a float64 C-contiguous input is used in place, without a copy;
        - bfloat16 ("bfloat16", "mixed_bfloat16"): numpy has no bfloat16, so
          float64 inputs are passed as they are (rounded to bfloat16 once,
          by the library), other real inputs as float32, and the result is a
          float32 array holding the bfloat16 values exactly.

        bfloat16_bits: take a uint16 array of raw bfloat16 bits (the upper
            half of a float32) and return the output as such bits, with no
            widening on either side; works on every policy (a float32 or
            float64 layer rounds its output to bfloat16)."""
        compute = self._compute_code()
        if bfloat16_bits:
            x, x_code = _bf16_bits_input(inputs, "inputs"), DTYPE_BFLOAT16
            y_type, y_code = np.uint16, DTYPE_BFLOAT16
        elif compute == DTYPE_FLOAT64:
            x, x_code = _real_input(inputs, np.float64, "inputs"), DTYPE_FLOAT64
            y_type, y_code = np.float64, DTYPE_FLOAT64
        elif compute == DTYPE_BFLOAT16:
            a = np.asarray(inputs)
            wide = a.dtype == np.float64
            x = _real_input(a, np.float64 if wide else np.float32, "inputs")
            x_code = DTYPE_FLOAT64 if wide else DTYPE_FLOAT32
            y_type, y_code = np.float32, DTYPE_FLOAT32
        else:
            x, x_code = _float32_input(inputs, "inputs"), DTYPE_FLOAT32
            y_type, y_code = np.float32, DTYPE_FLOAT32
        batch, steps, channels = self._split_shape(x.shape, "input shape")
        if not self.built:
            with self._build_lock:
                if not self.built:
                    self.build(x.shape)
        shape = (ctypes.c_int64 * 3)()
        count = ctypes.c_size_t()
        handle = self._h()
        self._lib.output_shape(handle, batch, steps, shape, ctypes.byref(count))
        y = np.empty(tuple(shape), dtype=y_type)
        assert y.size == count.value
        if x_code == DTYPE_FLOAT32 and y_code == DTYPE_FLOAT32:
            self._lib.forward(handle, _float_ptr(x), x.size, batch, steps, channels, _float_ptr(y), y.size)
        else:
            self._lib.forward_ex(handle, x_code, x.ctypes.data, x.size, batch, steps, channels, y_code,
                                 y.ctypes.data, y.size)
        return y

    def query_algorithm(self, batch, steps):
        """The algorithm name the layer runs for inputs of (batch, steps)."""
        algorithm = ctypes.c_int()
        self._lib.query_algorithm(self._h(), int(batch), int(steps), ctypes.byref(algorithm))
        return self._lib.algorithm_name(algorithm.value).decode()

    def describe_plan(self, batch, steps):
        """One line: the plan (algorithm, kernel, ISA, threads, why) for (batch, steps)."""
        return self._lib.get_text(self._lib.describe_plan, self._h(), int(batch), int(steps))

    def stream(self, batch=1):
        """A :class:`conv1d.Stream` of ``batch`` sequences on this built layer
        (padding 'causal' or 'valid'), fed chunk by chunk."""
        from .stream import Stream

        return Stream(self, batch)

    # ---- training --------------------------------------------------------

    def backward(self, inputs, dy, *, input_grad=True, kernel_grad=True, bias_grad=True, regularizers=False,
                 out=None, accumulate=False):
        """Gradients of a loss through the layer, given the forward's ``inputs``
        and ``dy``, the loss gradient with respect to the layer's output (after
        the activation; the shape ``call`` returns).

        Returns ``(dx, grads)``: ``dx`` has the shape of ``inputs`` (None with
        ``input_grad=False``), and ``grads`` maps weight names to gradients in
        Keras layout, in the order of ``layer.weights``: ``"kernel"`` and
        ``"bias"``, or with LoRA on ``"bias"``, ``"lora_kernel_a"`` and
        ``"lora_kernel_b"`` (the frozen kernel has none). So
        ``grads[w.name]`` is the gradient of each ``w`` in
        ``layer.trainable_weights``. ``kernel_grad=False`` leaves out the
        kernel's (or the LoRA factors') gradients, ``bias_grad=False`` the bias's.

        regularizers: add the gradients of the penalties Keras adds to the loss
            as ``layer.losses`` (see ``regularization_loss``): the weight
            regularizers' into the weight gradients (trainable weights only),
            the activity regularizer's into the output gradient.
        out: a ``(dx, grads)`` pair from an earlier call (or float32
            C-contiguous arrays of the same shapes) to write into instead of
            new arrays; it is returned.
        accumulate: add into ``out`` instead of overwriting it (gradient
            accumulation over micro-batches).

        The pre-activation output is recomputed from ``inputs``, so nothing is
        kept between ``call`` and ``backward``, and many threads may run
        ``backward`` on one layer at once.
        """
        x = _float32_input(inputs, "inputs")
        batch, steps, channels = self._split_shape(x.shape, "input shape")
        g = _float32_input(dy, "dy")
        expected = self._output_shape(batch, steps)
        if g.shape != expected:
            raise ValueError("dy has shape %r; the output of layer %r for inputs of shape %r has shape %r" % (
                g.shape, self.name, x.shape, expected))
        if accumulate and out is None:
            raise ValueError("accumulate=True adds into the arrays of `out`: pass out=(dx, grads)")
        lora = self.lora_enabled
        names = []
        if kernel_grad:
            names += ["lora_kernel_a", "lora_kernel_b"] if lora else ["kernel"]
        if bias_grad and self.use_bias:
            names.append("bias")
        names.sort(key=lambda n: list(WEIGHT_NAMES.values()).index(n))
        shapes = {WEIGHT_NAMES[w]: self._weight_shape(w) for w in Weight if WEIGHT_NAMES[w] in names}

        out_dx, out_grads = (None, {}) if out is None else _unpack_out(out)
        dx = None
        if input_grad:
            dx = _output_array(out_dx, x.shape, "dx") if out is not None else np.empty(x.shape, np.float32)
        grads = {}
        for n in names:
            grads[n] = (_output_array(out_grads.get(n), shapes[n], "grads[%r]" % n) if out is not None
                        else np.empty(shapes[n], np.float32))

        flags = (BACKWARD_REGULARIZERS if regularizers else 0) | (BACKWARD_ACCUMULATE if accumulate else 0)
        dkernel = grads.get("kernel")
        if lora and kernel_grad:
            # The gradient of the effective kernel, turned into the factors' below;
            # zeros so that an accumulating call starts it from nothing.
            dkernel = np.zeros(self._weight_shape(Weight.KERNEL), np.float32)
        if dx is None and dkernel is None and "bias" not in grads:
            return None, grads
        dbias = grads.get("bias")
        handle = self._h()
        self._lib.backward(handle, _float_ptr(x), x.size, batch, steps, channels, _float_ptr(g), g.size,
                           *_optional_ptr(dx), *_optional_ptr(dkernel), *_optional_ptr(dbias), flags)
        if lora and kernel_grad:
            self._lib.lora_gradients(handle, _float_ptr(dkernel), dkernel.size,
                                     *_optional_ptr(grads["lora_kernel_a"]), *_optional_ptr(grads["lora_kernel_b"]),
                                     flags)
        return dx, grads

    def regularization_loss(self, y=None):
        """The regularization loss Keras adds for this layer, ``sum(layer.losses)``:
        the kernel and bias penalties of the trainable weights (with LoRA on,
        the kernel regularizer applies to the two factors instead, as in
        Keras) plus, when ``y`` (an output of ``call``) is given, the activity
        regularizer's penalty of ``y`` divided by its batch size. A float.

        Keras collects the activity penalty while ``layer(x)`` runs and keeps
        it in ``layer.losses``; this binding keeps no state between calls, so
        the output is passed here instead."""
        loss = ctypes.c_double()
        if y is None:
            self._lib.regularization_loss(self._h(), None, 0, 0, 0, ctypes.byref(loss))
            return loss.value
        out = _float32_input(y, "y")
        batch, steps = self._input_size_of(out.shape)
        self._lib.regularization_loss(self._h(), _float_ptr(out), out.size, batch, steps, ctypes.byref(loss))
        return loss.value

    def _input_size_of(self, output_shape):
        """(batch, steps) of an input that gives an output of ``output_shape``."""
        output_shape = tuple(output_shape)
        problem = None
        if len(output_shape) != 3 or min(output_shape) < 1:
            problem = "it is not a non-empty rank-3 shape"
        else:
            batch = output_shape[0]
            out_steps = output_shape[1] if self._channels_last() else output_shape[2]
            if not self._channels_last() and self.activation == "glu":
                out_steps *= 2  # glu halved the time axis, the last one
            stride, dilation, k = self.strides[0], self.dilation_rate[0], self.kernel_size[0]
            steps = (out_steps - 1) * stride + 1 + (dilation * (k - 1) if self.padding == "valid" else 0)
            if self._output_shape(batch, steps) == output_shape:
                return batch, steps
            problem = "no input gives it"
        raise ValueError("y has shape %r, which is not an output shape of layer %r: %s" % (
            output_shape, self.name, problem))

    def apply_constraints(self):
        """Project the trainable weights onto the kernel and bias constraints in
        place, as a Keras optimizer does after each update."""
        self._lib.apply_constraints(self._h())

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform", b_initializer="zeros"):
        """Keras' enable_lora on a built layer: freeze the kernel and train
        ``lora_kernel_a`` (he_uniform) and ``lora_kernel_b`` (zeros) instead; the
        convolution uses ``kernel + lora_alpha / rank * A @ B``. ``lora_alpha``
        defaults to ``rank``. Other factor initializers are not supported."""
        if not self.built:
            raise ValueError("Cannot enable lora on a layer that isn't yet built.")
        if isinstance(rank, bool) or not isinstance(rank, numbers.Integral):
            raise TypeError("rank must be an int, got %r" % (rank,))
        if lora_alpha is not None and (isinstance(lora_alpha, bool) or not isinstance(lora_alpha, numbers.Real)
                                       or not math.isfinite(lora_alpha)):
            raise ValueError("lora_alpha must be a finite number or None, got %r" % (lora_alpha,))
        for argument, value, default in (("a_initializer", a_initializer, "he_uniform"),
                                         ("b_initializer", b_initializer, "zeros")):
            if value != default:
                raise NotImplementedError("enable_lora(%s=%r): libconv1d initializes the LoRA factors with "
                                          "he_uniform (A) and zeros (B) only" % (argument, value))
        self._set_int(Param.LORA_RANK, rank)  # the library refuses a kernel constraint or a second enable
        # Keras sets lora_alpha to the rank when none is given, whatever the constructor had.
        self._lib.set_double(self._h(), Param.LORA_ALPHA, float(rank if lora_alpha is None else lora_alpha))

    def merge_lora(self):
        """Fold the LoRA update into the kernel (kernel += lora_alpha / rank * A @ B)
        and turn LoRA off: the kernel is trainable again and the factors are
        gone. (Keras has no public method for this; it merges when saving.)"""
        self._lib.lora_merge(self._h())

    # ---- weights ---------------------------------------------------------

    def _kernel_shape(self):
        return self._weight_shape(Weight.KERNEL)

    def _weight_shape(self, which):
        k, filters = self._get_int(Param.KERNEL_SIZE), self.filters
        cg = self._get_int(Param.IN_CHANNELS) // self.groups
        rank = self._get_int(Param.LORA_RANK)
        return {
            Weight.KERNEL: (k, cg, filters),
            Weight.BIAS: (filters,),
            Weight.LORA_A: (k, cg, rank),
            Weight.LORA_B: (rank, filters),
        }[which]

    def _weight_size(self, which):
        size = ctypes.c_size_t()
        self._lib.weight_size(self._h(), which, ctypes.byref(size))
        return size.value

    def _present(self):
        """The weights the layer has, in Keras' order of creation."""
        if not self.built:
            return []
        present = [Weight.KERNEL]
        if self.use_bias:
            present.append(Weight.BIAS)
        if self._get_int(Param.LORA_RANK) > 0:
            present += [Weight.LORA_A, Weight.LORA_B]
        return present

    def _float64_weights(self):
        """[kernel, bias or None] of a float64-variable layer at full precision."""
        kernel = np.empty(self._weight_shape(Weight.KERNEL), dtype=np.float64)
        bias = np.empty(self._weight_shape(Weight.BIAS), dtype=np.float64) if self.use_bias else None
        self._lib.get_weights_ex(self._h(), DTYPE_FLOAT64, kernel.ctypes.data, kernel.size,
                                 None if bias is None else bias.ctypes.data, 0 if bias is None else bias.size)
        return [kernel, bias]

    def _get_weight(self, which):
        size = self._weight_size(which)
        if size == 0:
            raise ValueError("layer %r has no weight %r now" % (self.name, WEIGHT_NAMES[Weight(which)]))
        if which in (Weight.KERNEL, Weight.BIAS) and self._variable_code() == DTYPE_FLOAT64:
            return self._float64_weights()[int(which)]
        value = np.empty(self._weight_shape(which), dtype=np.float32)
        assert value.size == size
        self._lib.get_weight(self._h(), which, _float_ptr(value), value.size)
        return value

    def _set_weight(self, which, value):
        name = WEIGHT_NAMES[Weight(which)]
        if self._weight_size(which) == 0:
            raise ValueError("layer %r has no weight %r now" % (self.name, name))
        wide = which in (Weight.KERNEL, Weight.BIAS) and self._variable_code() == DTYPE_FLOAT64
        array = _real_input(value, np.float64 if wide else np.float32, name)
        shape = self._weight_shape(which)
        if array.shape != shape:
            raise ValueError("%s has shape %r; layer %r needs %r" % (name, array.shape, self.name, shape))
        if not wide:
            self._lib.set_weight(self._h(), which, _float_ptr(array), array.size)
            return
        # No per-weight call takes float64: write both, the other one as it is.
        both = self._float64_weights()
        both[int(which)] = array
        kernel, bias = both
        self._lib.set_weights_ex(self._h(), DTYPE_FLOAT64, kernel.ctypes.data, kernel.size,
                                 None if bias is None else bias.ctypes.data, 0 if bias is None else bias.size)

    @property
    def weights(self):
        """The layer's weights as :class:`Variable` views, in Keras' order:
        kernel, bias (with use_bias), lora_kernel_a, lora_kernel_b (with LoRA
        on). [] before the layer is built."""
        return [Variable(self, which) for which in self._present()]

    @property
    def trainable_weights(self):
        """The weights an optimizer updates, as Keras lists them: none when the
        layer is not trainable, and not the kernel while LoRA is on."""
        if not self.trainable:
            return []
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [w for w in self.weights if not w.trainable]

    def get_weights(self):
        """The values of ``layer.weights`` as new float32 arrays in Keras layout:
        [kernel, bias] (or [kernel] without bias), then lora_kernel_a and
        lora_kernel_b with LoRA on. [] before the layer is built."""
        return [self._get_weight(which) for which in self._present()]

    def set_weights(self, weights):
        """Set the weights in the order of ``get_weights``: kernel
        (kernel_size, in_channels/groups, filters), bias (filters,) when
        use_bias, and with LoRA on lora_kernel_a (kernel_size,
        in_channels/groups, lora_rank) and lora_kernel_b (lora_rank, filters).
        On an unbuilt layer this builds it, the input channels following from
        the kernel (and enables LoRA if ``lora_rank`` was set; the factors may
        then be given or left to their initializers). The data are copied."""
        weights = list(weights)
        rank = self._get_int(Param.LORA_RANK)
        base = 2 if self.use_bias else 1
        with_factors = rank > 0 and len(weights) == base + 2
        if self.lora_enabled and not with_factors:
            raise ValueError("set_weights: layer %r has LoRA on and expects %d arrays [%s]; got %d" % (
                self.name, base + 2, ", ".join(w.name for w in self.weights), len(weights)))
        plain = weights[:base] if with_factors else weights
        if not 1 <= len(plain) <= 2:
            raise ValueError("set_weights expects [kernel, bias] or [kernel] (then lora_kernel_a, lora_kernel_b "
                             "with LoRA on); got %d arrays" % len(weights))
        # float64 data go to the library as they are when the layer keeps them
        # (float64 variables) or rounds them once (bfloat16 variables, rather
        # than through float32); float32 layers take float32 as always.
        wide = self._lib.has_dtypes and (self._variable_code() == DTYPE_FLOAT64 or (
            self.dtype != "float32" and np.asarray(plain[0]).dtype == np.float64))
        element = np.float64 if wide else np.float32
        kernel = _real_input(plain[0], element, "kernel")
        bias = None if len(plain) < 2 or plain[1] is None else _real_input(plain[1], element, "bias")
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
        factors = []
        if with_factors:
            # Checked before anything is written, so a bad factor changes nothing.
            cg = kernel.shape[1]
            for which, value, shape in ((Weight.LORA_A, weights[base], (k, cg, rank)),
                                        (Weight.LORA_B, weights[base + 1], (rank, filters))):
                array = _float32_input(value, WEIGHT_NAMES[which])
                if array.shape != shape:
                    raise ValueError("%s has shape %r; layer %r needs %r" % (
                        WEIGHT_NAMES[which], array.shape, self.name, shape))
                factors.append((which, array))
        if wide:
            self._lib.set_weights_ex(self._h(), DTYPE_FLOAT64, kernel.ctypes.data, kernel.size,
                                     None if bias is None else bias.ctypes.data, 0 if bias is None else bias.size)
        else:
            self._lib.set_weights(
                self._h(),
                _float_ptr(kernel),
                kernel.size,
                None if bias is None else _float_ptr(bias),
                0 if bias is None else bias.size,
            )
        for which, array in factors:
            self._lib.set_weight(self._h(), which, _float_ptr(array), array.size)

    @property
    def kernel(self):
        """A copy of the kernel the convolution uses, (kernel_size,
        in_channels/groups, filters): with LoRA on, as in Keras, the frozen
        kernel plus lora_alpha / lora_rank * lora_kernel_a @ lora_kernel_b."""
        if not self.built:
            raise AttributeError("You must build the layer before accessing `kernel`.")
        kernel = self._get_weight(Weight.KERNEL)
        if not self.lora_enabled:
            return kernel
        a = self._get_weight(Weight.LORA_A).astype(np.float64)
        b = self._get_weight(Weight.LORA_B).astype(np.float64)
        scale = self._get_double(Param.LORA_ALPHA) / self._get_int(Param.LORA_RANK)
        return (kernel + scale * np.tensordot(a, b, axes=1)).astype(np.float32)

    @property
    def bias(self):
        """A copy of the bias, (filters,), or None without use_bias."""
        if not self.built:
            raise AttributeError("You must build the layer before accessing `bias`.")
        return self._get_weight(Weight.BIAS) if self.use_bias else None

    def count_params(self):
        """The number of weight values, LoRA factors included, as Keras counts them."""
        if not self.built:
            raise ValueError("You tried to call `count_params` on layer %r, but the layer isn't built." % self.name)
        return sum(self._weight_size(which) for which in self._present())

    # ---- weight files ----------------------------------------------------

    def _file_call(self, path, call):
        """``call(raw_path)`` for a file function of the library; an IO failure
        raises LibraryIOError (an OSError) with ``filename`` set to ``path``."""
        raw = _path_argument(path)
        try:
            call(raw)
        except LibraryIOError as error:
            error.filename = os.fspath(path)
            raise

    def load_weights(self, filepath, key=None):
        """Load the kernel and bias from a file Keras saved, as Keras'
        ``load_weights`` does for this layer (conv1d_load_weights_keras):

        - ``model.save_weights("m.weights.h5")``: a Keras 3 weights file,
          whose ``layers/conv1d/vars/0`` and ``vars/1`` are the kernel and bias;
        - ``model.save("m.keras")``: the ``model.weights.h5`` inside the archive;
        - ``model.save("m.h5")`` or Keras 2's ``save_weights("m.h5")``: a
          legacy file, read through its ``weight_names``.

        The format is told from the content, not the name. ``filepath`` is a
        str, bytes or os.PathLike. ``key`` picks the layer when the file holds
        several: a path in the file (``"layers/conv1d_1"``) or its trailing
        part (``"conv1d_1"``; Keras numbers these paths per class in model
        order, not by ``layer.name``), or the Keras layer name (stored by
        Keras 3.6 and later, and in legacy files). With ``key=None`` the file must hold
        exactly one Conv1D-like layer. When the key matches nothing or several
        layers, the error lists the candidates with their kernel shapes.

        An unbuilt layer is built from the kernel's shape (kernel_size,
        in_channels/groups, filters); a built one must have exactly that
        shape. With LoRA on (or ``lora_rank`` set before the build) the kernel
        is replaced and the factors are zeroed, as Keras does: the file holds
        the merged kernel. float16/bfloat16/float64 datasets are rounded to
        float32. On any failure the layer is unchanged; the errors are the
        library's: LibraryIOError (an OSError; ``filename`` is the path) when
        the file cannot be read, ParseError when it is corrupt,
        UnknownNameError for a key that matches nothing, InvalidArgumentError
        for an ambiguous key or a bias the layer lacks (or the other way
        round), ShapeMismatchError for a kernel of another shape, and
        UnsupportedError for another dtype, an unreadable archive entry or a
        library built without HDF5.
        """
        if key is not None and not isinstance(key, str):
            raise TypeError("key must be a str (a path in the file or a Keras layer name) or None, got %r" % (key,))
        if key is not None and "\0" in key:
            raise ValueError("key: embedded null byte")
        key_bytes = None if key is None else key.encode("utf-8")
        self._file_call(filepath, lambda raw: self._lib.load_weights_keras(self._h(), raw, key_bytes))

    def load_npy(self, which, path):
        """Set one weight from a NumPy ``.npy`` file (conv1d_load_npy).
        ``which`` is "kernel", "bias", "lora_kernel_a" or "lora_kernel_b" (or
        a :class:`Weight`). The array must have the weight's Keras shape
        (kernel (kernel_size, in_channels/groups, filters), bias (filters,),
        lora_kernel_a (kernel_size, in_channels/groups, lora_rank),
        lora_kernel_b (lora_rank, filters)), be in C order and hold float32,
        float64 or float16 in either byte order, so ``np.save(path,
        layer.get_weights()[0])`` writes one. Loading the kernel into an
        unbuilt layer builds it, the bias coming from its initializer; the
        other weights need a built layer that has them. On any failure the
        layer is unchanged."""
        which = _weight_argument(which)
        self._file_call(path, lambda raw: self._lib.load_npy(self._h(), which, raw))

    def save_npy(self, which, path):
        """Write one weight of a built layer to ``path`` as a NumPy ``.npy``
        file (conv1d_save_npy): little-endian float32 in its Keras shape, which
        ``np.load`` reads back. ``which`` is as for :meth:`load_npy`. The file
        is created or truncated, at exactly ``path`` (unlike ``numpy.save``,
        no ".npy" is appended)."""
        which = _weight_argument(which)
        self._file_call(path, lambda raw: self._lib.save_npy(self._h(), which, raw))

    # ---- config ----------------------------------------------------------

    def get_config(self):
        """The Keras 3 get_config() dict as libconv1d writes it (Keras 3.15's
        keys, order and values), with Keras' tuples for kernel_size, strides
        and dilation_rate. The execution settings and the seed are not part of it."""
        return _keras_tuples(json.loads(self._lib.get_text(self._lib.get_config, self._h(), 0)))

    def serialize(self):
        """The layer's entry in a Keras model config, as
        ``keras.layers.serialize(layer)`` gives it: module, class_name, config,
        registered_name and, once built, build_config."""
        entry = json.loads(self._lib.get_text(self._lib.get_config, self._h(), 1))
        _keras_tuples(entry["config"])
        if "build_config" in entry:
            entry["build_config"] = self.get_build_config()  # the binding also knows the steps given to build
        return entry

    @classmethod
    def from_config(cls, config):
        """A new layer from a Keras get_config() dict, or from a model's layer
        entry ({"class_name": "Conv1D", "config": {...}, "build_config": ...}),
        or from either as a JSON string. The library reads it as Keras 3 does
        (any Keras 3 version's form). With a build_config the layer is built
        with weights from its initializers; without one it builds on its
        first call, as in Keras."""
        if isinstance(config, (str, bytes)):
            text = config if isinstance(config, str) else config.decode("utf-8")
        elif isinstance(config, dict):
            text = json.dumps(config, default=_json_default)
        else:
            raise TypeError("from_config expects a config dict or JSON text, got %r" % (config,))
        handle = LayerPtr()
        lib = _native.lib()
        lib.create_from_config(text.encode("utf-8"), ctypes.byref(handle))
        layer = cls.__new__(cls)
        layer._init_state()
        layer._handle = handle
        if layer.built:
            entry = json.loads(text)
            shape = (entry.get("build_config") or {}).get("input_shape")
            if isinstance(shape, (list, tuple)) and len(shape) == 3:
                layer._build_input_shape = tuple(None if d is None else int(d) for d in shape)
        return layer

    def __repr__(self):
        if not self._handle:
            return "<conv1d.Conv1D (closed)>"
        return "<conv1d.Conv1D name=%r filters=%d kernel_size=%r %s>" % (
            self.name,
            self.filters,
            self.kernel_size,
            "in_channels=%d" % self.input_channels if self.built else "unbuilt",
        )


def serialize(layer):
    """``keras.layers.serialize``: the layer's model-config entry."""
    return layer.serialize()


def deserialize(config):
    """``keras.layers.deserialize``: a Conv1D from a model-config entry or a config dict."""
    return Conv1D.from_config(config)


def from_keras(config, weights_path, key=None):
    """A Conv1D from its Keras config and the weights Keras saved: a Keras
    user's layer, ready to run.

    ``config`` is what :meth:`Conv1D.from_config` takes (the layer's
    get_config() dict, its entry in a model's config.json, or either as JSON
    text); ``weights_path`` and ``key`` are what :meth:`Conv1D.load_weights`
    takes (a .keras archive, a .weights.h5 file or a legacy .h5 file; the
    layer's path or Keras name in it, needed when the file holds several
    Conv1D layers). A config with a build_config must agree with the file's
    kernel shape; without one the layer is built from the file."""
    layer = Conv1D.from_config(config)
    try:
        layer.load_weights(weights_path, key)
    except BaseException:
        layer.close()
        raise
    return layer


def _unpack_out(out):
    try:
        dx, grads = out
    except (TypeError, ValueError):
        raise TypeError("out must be a (dx, grads) pair as backward returns it")
    if grads is None:
        grads = {}
    if not isinstance(grads, dict):
        raise TypeError("out[1] must be a dict of gradients by weight name, as backward returns it")
    return dx, grads


def _output_array(array, shape, what):
    if array is None:
        raise ValueError("out has no %s to write into" % what)
    if not isinstance(array, np.ndarray) or array.dtype != np.float32 or not array.flags.c_contiguous \
            or not array.flags.writeable or not array.flags.aligned:
        raise TypeError("out's %s must be a writable C-contiguous float32 ndarray" % what)
    if array.shape != tuple(shape):
        raise ValueError("out's %s has shape %r; the gradient has shape %r" % (what, array.shape, tuple(shape)))
    return array


def _restore(cls, config, settings, weights):
    layer = cls.from_config(config)
    for knob, value in settings.items():
        setattr(layer, knob, value)
    if weights is not None:
        layer.set_weights(weights)
    return layer
