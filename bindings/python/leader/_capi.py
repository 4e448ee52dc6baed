"""1:1 ctypes declarations of include/leader.h (tests/test_abi.py checks them against the header)."""
import ctypes

from ._loader import load
from .errors import error_for

c_float_p = ctypes.POINTER(ctypes.c_float)

lib = load()

# name: (restype, [argtypes]); status-returning functions get an errcheck that raises.
DECLARATIONS = {
    "leader_abi_version": (ctypes.c_int32, []),
    "leader_version_string": (ctypes.c_char_p, []),
    "leader_build_info": (ctypes.c_char_p, []),
    "leader_status_string": (ctypes.c_char_p, [ctypes.c_int32]),
    "leader_last_error": (ctypes.c_char_p, []),
    "leader_sgemm": ("status", [ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_float,
                                c_float_p, ctypes.c_int64, c_float_p, ctypes.c_int64,
                                ctypes.c_float, c_float_p, ctypes.c_int64, ctypes.c_int32]),
}


def _check(status, func, args):
    if status != 0:
        message = lib.leader_last_error().decode("utf-8", "replace")
        raise error_for(status)(f"{func.__name__}: {message}", status)
    return status


for _name, (_res, _args) in DECLARATIONS.items():
    _f = getattr(lib, _name)
    _f.argtypes = _args
    if _res == "status":
        _f.restype = ctypes.c_int32
        _f.errcheck = _check
    else:
        _f.restype = _res
