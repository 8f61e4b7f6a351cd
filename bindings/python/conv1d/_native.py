"""Finding libconv1d.so.1 and declaring its C functions for ctypes.

The library is looked up, in this order:
1. the path in the environment variable ``CONV1D_LIBRARY`` (only that path:
   an explicit choice that fails is an error, not a reason to fall back);
2. ``build/libconv1d.so.1`` of the source checkout this package sits in
   (``bindings/python/conv1d`` of a libconv1d repository), if it was built;
3. ``libconv1d.so.1`` through the system's dynamic loader (``LD_LIBRARY_PATH``,
   the ldconfig cache, the default directories), then whatever
   ``ctypes.util.find_library("conv1d")`` reports.

It is loaded on first use, or explicitly with :func:`load_library`.
"""

import ctypes
import ctypes.util
import os
import pathlib
import threading

from .errors import Status, error_for_status

SONAME = "libconv1d.so.1"
ENV_VAR = "CONV1D_LIBRARY"
MAJOR_VERSION = 1  # the soname's major version: the ABI this module is written against
MINIMUM_VERSION = 10100  # 1.1: training (backward, penalties, constraints, LoRA) and the Keras config JSON


class _Layer(ctypes.Structure):
    """The opaque ``conv1d_layer``; only ever handled through a pointer."""


LayerPtr = ctypes.POINTER(_Layer)


class _Stream(ctypes.Structure):
    """The opaque ``conv1d_stream``; only ever handled through a pointer."""


StreamPtr = ctypes.POINTER(_Stream)
FloatPtr = ctypes.POINTER(ctypes.c_float)
_i64 = ctypes.c_int64
_i64p = ctypes.POINTER(ctypes.c_int64)
_size = ctypes.c_size_t
_sizep = ctypes.POINTER(ctypes.c_size_t)
_enum = ctypes.c_int  # C enums are int-sized on the supported ABIs
_status = ctypes.c_int
_u32 = ctypes.c_uint32

# name: (restype, argtypes, raises). Functions returning conv1d_status get an
# errcheck that raises on failure, except the three string getters, whose size
# query (capacity 0) answers BUFFER_TOO_SMALL by design and is handled by
# get_text() below.
_FUNCTIONS = {
    "conv1d_version_number": (ctypes.c_uint, [], False),
    "conv1d_version_string": (ctypes.c_char_p, [], False),
    "conv1d_status_string": (ctypes.c_char_p, [_status], False),
    "conv1d_last_error_message": (ctypes.c_char_p, [], False),
    "conv1d_algorithm_name": (ctypes.c_char_p, [_enum], False),
    "conv1d_activation_name": (ctypes.c_char_p, [_enum], False),
    "conv1d_create": (_status, [_i64, _i64, ctypes.POINTER(LayerPtr)], True),
    "conv1d_destroy": (None, [LayerPtr], False),
    "conv1d_set_int": (_status, [LayerPtr, _enum, _i64], True),
    "conv1d_set_double": (_status, [LayerPtr, _enum, ctypes.c_double], True),
    "conv1d_set_string": (_status, [LayerPtr, _enum, ctypes.c_char_p], True),
    "conv1d_get_int": (_status, [LayerPtr, _enum, _i64p], True),
    "conv1d_get_double": (_status, [LayerPtr, _enum, ctypes.POINTER(ctypes.c_double)], True),
    "conv1d_get_string": (_status, [LayerPtr, _enum, ctypes.c_char_p, _size, _sizep], False),
    "conv1d_param_bounds": (_status, [_enum, _i64p, _i64p], True),
    "conv1d_build": (_status, [LayerPtr, _i64], True),
    "conv1d_weight_sizes": (_status, [LayerPtr, _sizep, _sizep], True),
    "conv1d_set_weights": (_status, [LayerPtr, FloatPtr, _size, FloatPtr, _size], True),
    "conv1d_get_weights": (_status, [LayerPtr, FloatPtr, _size, FloatPtr, _size], True),
    "conv1d_output_steps": (_status, [LayerPtr, _i64, _i64p], True),
    "conv1d_padding_amounts": (_status, [LayerPtr, _i64, _i64p, _i64p], True),
    "conv1d_output_shape": (_status, [LayerPtr, _i64, _i64, _i64p, _sizep], True),
    "conv1d_forward": (_status, [LayerPtr, FloatPtr, _size, _i64, _i64, _i64, FloatPtr, _size], True),
    "conv1d_query_algorithm": (_status, [LayerPtr, _i64, _i64, ctypes.POINTER(_enum)], True),
    "conv1d_describe_plan": (_status, [LayerPtr, _i64, _i64, ctypes.c_char_p, _size, _sizep], False),
    "conv1d_cpu_isa": (_enum, [], False),
    # 1.1: training
    "conv1d_backward": (
        _status,
        [LayerPtr, FloatPtr, _size, _i64, _i64, _i64, FloatPtr, _size, FloatPtr, _size, FloatPtr, _size, FloatPtr,
         _size, _u32],
        True,
    ),
    "conv1d_regularization_loss": (
        _status, [LayerPtr, FloatPtr, _size, _i64, _i64, ctypes.POINTER(ctypes.c_double)], True),
    "conv1d_apply_constraints": (_status, [LayerPtr], True),
    "conv1d_weight_size": (_status, [LayerPtr, _enum, _sizep], True),
    "conv1d_get_weight": (_status, [LayerPtr, _enum, FloatPtr, _size], True),
    "conv1d_set_weight": (_status, [LayerPtr, _enum, FloatPtr, _size], True),
    "conv1d_lora_gradients": (_status, [LayerPtr, FloatPtr, _size, FloatPtr, _size, FloatPtr, _size, _u32], True),
    "conv1d_lora_merge": (_status, [LayerPtr], True),
    # 1.1: Keras config JSON
    "conv1d_create_from_config": (_status, [ctypes.c_char_p, ctypes.POINTER(LayerPtr)], True),
    "conv1d_get_config": (_status, [LayerPtr, ctypes.c_int, ctypes.c_char_p, _size, _sizep], False),
}

# Functions a 1.1 library may lack: the Keras weight-file and .npy functions
# came after the first 1.1.0 builds, streams and dtype policies with 1.2. The library still
# loads without them; calling one raises UnsupportedError naming the missing
# symbol.
_OPTIONAL_FUNCTIONS = {
    "conv1d_load_weights_keras": (_status, [LayerPtr, ctypes.c_char_p, ctypes.c_char_p], True),
    "conv1d_load_npy": (_status, [LayerPtr, _enum, ctypes.c_char_p], True),
    "conv1d_save_npy": (_status, [LayerPtr, _enum, ctypes.c_char_p], True),
    # 1.2: streams
    "conv1d_stream_create": (_status, [LayerPtr, _i64, ctypes.POINTER(StreamPtr)], True),
    "conv1d_stream_destroy": (None, [StreamPtr], False),
    "conv1d_stream_reset": (_status, [StreamPtr], True),
    "conv1d_stream_output_frames": (_status, [StreamPtr, _i64, _i64p], True),
    "conv1d_stream_process": (_status, [StreamPtr, FloatPtr, _size, _i64, FloatPtr, _size, _i64p], True),
    "conv1d_stream_frames_seen": (_status, [StreamPtr, _i64p], True),
    # 1.2: dtype policies and typed buffers
    "conv1d_dtype_name": (ctypes.c_char_p, [_enum], False),
    "conv1d_forward_ex": (
        _status, [LayerPtr, _enum, ctypes.c_void_p, _size, _i64, _i64, _i64, _enum, ctypes.c_void_p, _size], True),
    "conv1d_set_weights_ex": (_status, [LayerPtr, _enum, ctypes.c_void_p, _size, ctypes.c_void_p, _size], True),
    "conv1d_get_weights_ex": (_status, [LayerPtr, _enum, ctypes.c_void_p, _size, ctypes.c_void_p, _size], True),
}


def _feature_of(name):
    """What an optional function came with, for the missing-function message."""
    if name.startswith("conv1d_stream_"):
        return "streams"
    if name == "conv1d_dtype_name" or name.endswith("_ex"):
        return "dtype policies"
    return "the Keras weight-file functions"


# Flags of conv1d_backward and conv1d_lora_gradients (conv1d_backward_flags).
BACKWARD_REGULARIZERS = 1
BACKWARD_ACCUMULATE = 2

# conv1d_dtype values: the element types of conv1d_forward_ex and the _ex weight calls.
DTYPE_FLOAT32 = 0
DTYPE_FLOAT64 = 1
DTYPE_BFLOAT16 = 2


class Library:
    """A loaded libconv1d with every function declared."""

    def __init__(self, path):
        self.path = str(path)
        self.cdll = ctypes.CDLL(self.path)  # CDLL releases the GIL during each call
        self.cdll.conv1d_version_number.restype = ctypes.c_uint
        number = self.cdll.conv1d_version_number()
        if number // 10000 != MAJOR_VERSION or number < MINIMUM_VERSION:
            self.cdll.conv1d_version_string.restype = ctypes.c_char_p
            raise ImportError(
                "%s is libconv1d %s; this module needs %d.%d or a later %d.x"
                % (self.path, self.cdll.conv1d_version_string().decode(), MINIMUM_VERSION // 10000,
                   MINIMUM_VERSION // 100 % 100, MAJOR_VERSION)
            )
        self.missing = set()
        for name, (restype, argtypes, raises) in list(_FUNCTIONS.items()) + list(_OPTIONAL_FUNCTIONS.items()):
            try:
                fn = getattr(self.cdll, name)
            except AttributeError:
                if name not in _OPTIONAL_FUNCTIONS:
                    raise
                setattr(self, name[len("conv1d_") :], self._missing(name))
                self.missing.add(name)
                continue
            fn.restype = restype
            fn.argtypes = argtypes
            if raises:
                fn.errcheck = self._errcheck
            setattr(self, name[len("conv1d_") :], fn)

    def version(self):
        return self.version_string().decode()

    @property
    def has_dtypes(self):
        """Whether the library has dtype policies (1.2): without them every layer is float32."""
        return "conv1d_forward_ex" not in self.missing

    def _missing(self, name):
        """A stand-in for an optional function this library does not export."""

        def missing(*args):
            raise error_for_status(
                Status.UNSUPPORTED,
                "%s (libconv1d %s) does not export %s: it was built before %s were added; rebuild "
                "libconv1d from a newer source"
                % (self.path, self.version(), name,
                   _feature_of(name)),
                self.status_string(Status.UNSUPPORTED).decode(),
            )

        missing.__name__ = name
        return missing

    def error(self, status):
        """The exception for a failed call; call right after it, on the same thread."""
        message = self.last_error_message().decode("utf-8", "replace")
        text = self.status_string(status).decode()
        return error_for_status(status, message or text, text)

    def _errcheck(self, result, func, args):
        if result != Status.OK:
            raise self.error(result)
        return result

    def get_text(self, fn, *args):
        """Call conv1d_get_string, conv1d_describe_plan or conv1d_get_config, sized by the library."""
        needed = _size()
        capacity = 256
        while True:
            buffer = ctypes.create_string_buffer(capacity)
            status = fn(*args, buffer, capacity, ctypes.byref(needed))
            if status == Status.OK:
                return buffer.value.decode("utf-8")
            if status == Status.BUFFER_TOO_SMALL and needed.value > capacity:
                capacity = needed.value
                continue
            raise self.error(status)


def _candidates():
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        return [explicit]
    paths = []
    root = pathlib.Path(__file__).resolve().parents[3]  # repo/bindings/python/conv1d/_native.py
    if (root / "include" / "conv1d" / "conv1d.h").is_file() and (root / "CMakeLists.txt").is_file():
        built = root / "build" / SONAME
        if built.is_file():
            paths.append(str(built))
    paths.append(SONAME)
    found = ctypes.util.find_library("conv1d")
    if found and found != SONAME:
        paths.append(found)
    return paths


_lock = threading.Lock()
_library = None


def load_library(path=None):
    """Load libconv1d (from ``path`` if given, else by the search above) and
    return it; later calls return the same library."""
    global _library
    with _lock:
        if _library is not None:
            if path is not None and os.path.realpath(path) != os.path.realpath(_library.path):
                raise RuntimeError("libconv1d is already loaded from %s" % _library.path)
            return _library
        tried = []
        for candidate in [path] if path is not None else _candidates():
            try:
                _library = Library(candidate)
                return _library
            except OSError as error:
                tried.append("  %s: %s" % (candidate, error))
        raise ImportError(
            "cannot load libconv1d; tried:\n%s\nBuild the library (cmake) and set %s=/path/to/%s, "
            "or install it where the dynamic loader finds it." % ("\n".join(tried), ENV_VAR, SONAME)
        )


def lib():
    """The loaded library, loading it on first use."""
    return _library if _library is not None else load_library()
