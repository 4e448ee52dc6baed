"""Exceptions raised for libleader status codes; the message is the library's leader_last_error()."""


class LeaderError(Exception):
    """Base class; ``status`` is the LEADER_ERR_* number."""

    status = -1

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class InvalidArgument(LeaderError, ValueError):
    status = 1


class IOFailure(LeaderError, OSError):
    status = 2


class BadFile(LeaderError):
    status = 3


class Incompatible(LeaderError):
    status = 4


class OutOfMemory(LeaderError, MemoryError):
    status = 5


class BufferTooSmall(LeaderError):
    status = 6


class Cancelled(LeaderError):
    status = 7


class Overflow(LeaderError, OverflowError):
    status = 8


class InternalError(LeaderError):
    status = 100


_BY_STATUS = {cls.status: cls for cls in (InvalidArgument, IOFailure, BadFile, Incompatible, OutOfMemory,
                                          BufferTooSmall, Cancelled, Overflow, InternalError)}


def error_for(status: int) -> type[LeaderError]:
    return _BY_STATUS.get(status, LeaderError)
