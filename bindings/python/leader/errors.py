"""Exceptions raised for libleader status codes; the message is the library's leader_last_error().

The status numbers are not written here: each class names its LEADER_ERR_* constant and takes the number
from include/leader.h (see _header.py), so the header stays the only place that says them.
"""
from ._header import CONSTANTS


class LeaderError(Exception):
    """Base class; ``status`` is the LEADER_ERR_* number (-1 for an error the binding found itself)."""

    status = -1
    constant = None

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class InvalidArgument(LeaderError, ValueError):
    constant = "LEADER_ERR_INVALID_ARGUMENT"


class IOFailure(LeaderError, OSError):
    constant = "LEADER_ERR_IO"

    def __str__(self):  # OSError's own formatting would drop the message for two-argument construction
        return str(self.args[0]) if self.args else ""


class BadFile(LeaderError):
    constant = "LEADER_ERR_BAD_FILE"


class Incompatible(LeaderError):
    constant = "LEADER_ERR_INCOMPATIBLE"


class OutOfMemory(LeaderError, MemoryError):
    constant = "LEADER_ERR_OUT_OF_MEMORY"


class BufferTooSmall(LeaderError):
    constant = "LEADER_ERR_BUFFER_TOO_SMALL"


class Cancelled(LeaderError):
    constant = "LEADER_ERR_CANCELLED"


class Overflow(LeaderError, OverflowError):
    constant = "LEADER_ERR_OVERFLOW"


class InternalError(LeaderError):
    constant = "LEADER_ERR_INTERNAL"


ERRORS = (InvalidArgument, IOFailure, BadFile, Incompatible, OutOfMemory, BufferTooSmall, Cancelled, Overflow,
          InternalError)

for _cls in ERRORS:
    if _cls.constant not in CONSTANTS:
        raise ImportError(f"leader.h has no {_cls.constant}; this binding does not match the header")
    _cls.status = CONSTANTS[_cls.constant]

OK = CONSTANTS["LEADER_OK"]
_BY_STATUS = {cls.status: cls for cls in ERRORS}


def error_for(status: int) -> type[LeaderError]:
    """The exception class of a status number (LeaderError for a number this binding has no class for)."""
    return _BY_STATUS.get(status, LeaderError)
