"""leader: LEADER medication recommendation (Python bindings over libleader.so via ctypes)."""
import json

import numpy as np

from . import _capi
from .errors import (BadFile, BufferTooSmall, Cancelled, Incompatible, InternalError, InvalidArgument,
                     IOFailure, LeaderError, OutOfMemory, Overflow)

__all__ = ["version", "abi_version", "build_info", "sgemm", "LeaderError", "InvalidArgument", "IOFailure",
           "BadFile", "Incompatible", "OutOfMemory", "BufferTooSmall", "Cancelled", "Overflow",
           "InternalError"]


def version() -> str:
    """Library version string, e.g. '0.1.0'."""
    return _capi.lib.leader_version_string().decode()


def abi_version() -> int:
    return _capi.lib.leader_abi_version()


def build_info() -> dict:
    """Build facts: version, ABI, kernel ISA in use, OpenMP, CPUs."""
    return json.loads(_capi.lib.leader_build_info().decode())


def sgemm(a, b, *, alpha: float = 1.0, n_threads: int = 0) -> np.ndarray:
    """alpha * a @ b with the library's kernel (float32, row-major)."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    b = np.ascontiguousarray(b, dtype=np.float32)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise InvalidArgument(f"sgemm: shapes {a.shape} and {b.shape} do not multiply")
    m, k = a.shape
    n = b.shape[1]
    c = np.zeros((m, n), dtype=np.float32)
    f = _capi.c_float_p
    _capi.lib.leader_sgemm(m, n, k, alpha, a.ctypes.data_as(f), max(k, 1), b.ctypes.data_as(f), max(n, 1),
                           0.0, c.ctypes.data_as(f), max(n, 1), n_threads)
    return c
