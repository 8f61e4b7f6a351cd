"""Python binding of libconv1d: the Keras 3 Conv1D layer in C, through ctypes.

    import numpy as np
    import conv1d

    layer = conv1d.Conv1D(32, 3, activation="relu")
    x = np.random.rand(4, 10, 128)
    y = layer(x)                                # builds from the channel axis
    y.shape                                     # (4, 8, 32)
    dx, grads = layer.backward(x, np.ones_like(y))  # {"kernel": ..., "bias": ...}

    causal = conv1d.Conv1D(32, 2, padding="causal", dilation_rate=4)
    stream = causal.stream(batch=1)             # once built: chunk-by-chunk inference
    y_chunk = stream.process(x_chunk)           # (1, frames, 128) in, completed outputs out

    layer = conv1d.from_keras(config, "model.keras")  # Keras config + saved weights

    exact = conv1d.Conv1D(32, 3, dtype="float64")   # float64 in, float64 out
    fast = conv1d.Conv1D(32, 3, dtype="mixed_bfloat16")  # float32 arrays of bf16 values out

The shared library is found through $CONV1D_LIBRARY, the build tree of the
checkout this package sits in, or the system loader (see conv1d._native);
``load_library(path)`` picks one explicitly before first use.
"""

from . import errors
from ._native import load_library
from .errors import (
    Conv1DError,
    InternalError,
    InvalidArgumentError,
    LibraryIOError,
    OutOfMemoryError,
    ParseError,
    ShapeMismatchError,
    SizeOverflowError,
    StateError,
    Status,
    UnknownNameError,
    UnsupportedError,
    WrongTypeError,
)
from .layer import WEIGHT_NAMES, Conv1D, DTypePolicy, Param, Variable, Weight, deserialize, from_keras, serialize
from .stream import Stream

Convolution1D = Conv1D  # Keras' alias

__all__ = [
    "Conv1D",
    "Convolution1D",
    "Conv1DError",
    "DTypePolicy",
    "InternalError",
    "InvalidArgumentError",
    "LibraryIOError",
    "OutOfMemoryError",
    "Param",
    "ParseError",
    "ShapeMismatchError",
    "SizeOverflowError",
    "StateError",
    "Status",
    "Stream",
    "UnknownNameError",
    "UnsupportedError",
    "Variable",
    "WEIGHT_NAMES",
    "Weight",
    "WrongTypeError",
    "cpu_isa",
    "deserialize",
    "errors",
    "from_keras",
    "library_path",
    "load_library",
    "serialize",
    "version",
]


def version():
    """The loaded library's version, "major.minor.patch"."""
    return load_library().version()


def library_path():
    """The path (or name) libconv1d was loaded from."""
    return load_library().path


def cpu_isa():
    """The best instruction set this CPU offers the kernels: "scalar", "avx2" or "avx512"."""
    return ("scalar", "avx2", "avx512")[load_library().cpu_isa()]
