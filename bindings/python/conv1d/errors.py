"""Exceptions raised for the statuses of libconv1d's C API.

Every call that returns a status other than ``CONV1D_OK`` raises a subclass of
:class:`Conv1DError`. The exception's text is the library's
``conv1d_last_error_message()``, read on the thread that made the call, and
``.status`` is the :class:`Status`. Each subclass also derives from the
built-in exception a Python programmer would expect (``ValueError`` for a bad
argument, ``MemoryError`` when allocation failed, ...), so ``except
ValueError`` works as it does around a Keras layer.
"""

import enum


class Status(enum.IntEnum):
    """``conv1d_status`` values (include/conv1d/conv1d.h). Never renumbered."""

    OK = 0
    NULL_POINTER = 1
    INVALID_VALUE = 2
    UNKNOWN_NAME = 3
    UNKNOWN_PARAMETER = 4
    WRONG_TYPE = 5
    INVALID_SIZE = 6
    SIZE_OVERFLOW = 7
    BUFFER_TOO_SMALL = 8
    STRIDES_WITH_DILATION = 9
    GROUPS_MISMATCH = 10
    EMPTY_OUTPUT = 11
    CHANNELS_MISMATCH = 12
    NOT_BUILT = 13
    INVALID_STATE = 14
    UNSUPPORTED = 15
    PARSE = 16
    OUT_OF_MEMORY = 17
    IO = 18
    INTERNAL = 19
    LENGTH_MISMATCH = 20


class Conv1DError(Exception):
    """A libconv1d call failed.

    Attributes:
        status: the :class:`Status` (a plain int for a status this module does
            not know, from a newer library).
        status_string: the library's fixed description of the status.
        message: the library's message for this failure (also ``str(error)``).
    """

    def __init__(self, message, status, status_string=""):
        Exception.__init__(self, message)
        self.message = message
        self.status = status
        self.status_string = status_string

    def __str__(self):
        return self.message

    def __repr__(self):
        name = self.status.name if isinstance(self.status, Status) else str(self.status)
        return "%s(%r, status=%s)" % (type(self).__name__, self.message, name)


class InvalidArgumentError(Conv1DError, ValueError):
    """A value the library refuses: a bad size, name, combination or JSON."""


class UnknownNameError(InvalidArgumentError):
    """A name (padding, activation, initializer, ...) the library does not know."""


class ParseError(InvalidArgumentError):
    """Malformed JSON, a config object Keras would not accept, or a malformed,
    truncated or corrupt weight file."""


class ShapeMismatchError(InvalidArgumentError):
    """An input's channels or a weight array's length does not fit the layer."""


class WrongTypeError(Conv1DError, TypeError):
    """A parameter was set or read with the wrong value type."""


class SizeOverflowError(Conv1DError, OverflowError):
    """A size exceeds what the kernels can index."""


class StateError(Conv1DError, RuntimeError):
    """The call is not allowed in the layer's state (not built, or already built)."""


class UnsupportedError(Conv1DError, NotImplementedError):
    """A valid request this build of the library cannot serve."""


class OutOfMemoryError(Conv1DError, MemoryError):
    """The library could not allocate memory."""


class LibraryIOError(Conv1DError, OSError):
    """A file could not be opened, read or written; the message has the path
    and the system's reason. Raised by the weight-file methods, ``filename``
    is the path they were given."""


class InternalError(Conv1DError, RuntimeError):
    """A bug in libconv1d; please report it with the message."""


_CLASS_OF_STATUS = {
    Status.NULL_POINTER: InvalidArgumentError,
    Status.INVALID_VALUE: InvalidArgumentError,
    Status.UNKNOWN_NAME: UnknownNameError,
    Status.UNKNOWN_PARAMETER: UnknownNameError,
    Status.WRONG_TYPE: WrongTypeError,
    Status.INVALID_SIZE: InvalidArgumentError,
    Status.SIZE_OVERFLOW: SizeOverflowError,
    Status.BUFFER_TOO_SMALL: InvalidArgumentError,
    Status.STRIDES_WITH_DILATION: InvalidArgumentError,
    Status.GROUPS_MISMATCH: InvalidArgumentError,
    Status.EMPTY_OUTPUT: InvalidArgumentError,
    Status.CHANNELS_MISMATCH: ShapeMismatchError,
    Status.NOT_BUILT: StateError,
    Status.INVALID_STATE: StateError,
    Status.UNSUPPORTED: UnsupportedError,
    Status.PARSE: ParseError,
    Status.OUT_OF_MEMORY: OutOfMemoryError,
    Status.IO: LibraryIOError,
    Status.INTERNAL: InternalError,
    Status.LENGTH_MISMATCH: ShapeMismatchError,
}


def error_for_status(status, message, status_string=""):
    """The exception to raise for a non-OK ``status`` with the library's ``message``."""
    try:
        status = Status(status)
    except ValueError:  # a status added by a newer library
        return Conv1DError(message, status, status_string)
    return _CLASS_OF_STATUS.get(status, Conv1DError)(message, status, status_string)
