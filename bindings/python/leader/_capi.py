"""1:1 ctypes declarations of include/leader.h (tests/test_abi.py checks them against the header).

Status-returning functions get an errcheck that raises the status's exception with leader_last_error().
ctypes.CDLL releases the GIL for the duration of every foreign call.
"""
import ctypes
from ctypes import POINTER, c_char_p, c_float, c_int32, c_int64, c_void_p

from ._loader import load
from .errors import error_for


class leader_model(ctypes.Structure):
    """Opaque: a student checkpoint ready to serve."""


class leader_session(ctypes.Structure):
    """Opaque: per-thread serving state of one model."""


class leader_trainer(ctypes.Structure):
    """Opaque: one training / preparation / evaluation job."""


model_p = POINTER(leader_model)
session_p = POINTER(leader_session)
trainer_p = POINTER(leader_trainer)
c_float_p = POINTER(c_float)
c_int32_p = POINTER(c_int32)
c_int64_p = POINTER(c_int64)
c_char_pp = POINTER(c_char_p)            # const char *const * (inputs) and const char ** (outputs)
progress_fn = ctypes.CFUNCTYPE(c_int32, c_char_p, c_void_p)   # leader_progress_fn

lib = load()

S = "status"
# name: (restype, [argtypes]) in the header's order.
DECLARATIONS = {
    "leader_abi_version": (c_int32, []),
    "leader_version_string": (c_char_p, []),
    "leader_build_info": (c_char_p, []),
    "leader_status_string": (c_char_p, [c_int32]),
    "leader_last_error": (c_char_p, []),
    "leader_set_openmp_blocktime": (S, [c_int32]),
    # model
    "leader_model_load": (S, [c_char_p, POINTER(model_p)]),
    "leader_model_free": (None, [model_p]),
    "leader_model_info_json": (S, [model_p, c_char_pp]),
    "leader_model_vocabulary_size": (S, [model_p, c_int32, c_int64_p]),
    "leader_model_code": (S, [model_p, c_int32, c_int32, c_char_pp, c_char_pp]),
    "leader_model_code_id": (S, [model_p, c_int32, c_char_p, c_int32_p]),
    # session
    "leader_session_create": (S, [model_p, c_char_p, POINTER(session_p)]),
    "leader_session_free": (None, [session_p]),
    "leader_session_recommend": (S, [session_p, c_int32,
                                     c_int64_p, c_char_pp, c_int64_p, c_char_pp, c_int64_p, c_char_pp,
                                     c_int32, c_char_pp, c_char_pp, c_int32, c_float,
                                     c_int32_p, c_float_p, c_char_pp, c_int64, c_int64_p,
                                     c_int64_p, c_int64, c_int64_p]),
    "leader_session_recommend_ids": (S, [session_p, c_int32,
                                         c_int64_p, c_int32_p, c_int64_p, c_int32_p, c_int64_p, c_int32_p,
                                         c_int32, c_int32_p, c_int32, c_float,
                                         c_int32_p, c_float_p, c_char_pp, c_int64, c_int64_p]),
    "leader_session_score_batch": (S, [session_p, c_int64, c_int64_p,
                                       c_int64_p, c_char_pp, c_int64_p, c_char_pp, c_int64_p, c_char_pp,
                                       c_int64_p, c_char_pp, c_char_pp, c_float_p, c_int64, c_int64_p]),
    "leader_session_score_batch_ids": (S, [session_p, c_int64, c_int64_p,
                                           c_int64_p, c_int32_p, c_int64_p, c_int32_p, c_int64_p, c_int32_p,
                                           c_int32_p, c_float_p, c_int64]),
    "leader_session_explain": (S, [session_p, c_int32,
                                   c_int64_p, c_char_pp, c_int64_p, c_char_pp, c_int64_p, c_char_pp,
                                   c_int32, c_char_pp, c_char_pp, c_int32,
                                   c_float_p, c_int64_p, c_float_p, c_int64, c_int64_p]),
    # trainer
    "leader_trainer_create": (S, [c_char_p, POINTER(trainer_p)]),
    "leader_trainer_run": (S, [trainer_p, progress_fn, c_void_p]),
    "leader_trainer_result_json": (S, [trainer_p, c_char_pp]),
    "leader_trainer_free": (None, [trainer_p]),
    # kernels
    "leader_sgemm": (S, [c_int64, c_int64, c_int64, c_float, c_float_p, c_int64, c_float_p, c_int64,
                         c_float, c_float_p, c_int64, c_int32]),
}


def last_error() -> str:
    return lib.leader_last_error().decode("utf-8", "replace")


def _check(status, func, args):
    """Raises the status's exception with the library's message, prefixed with the function's name unless the
    message already starts with it."""
    if status != 0:
        message = last_error()
        if not message.startswith(func.__name__ + ":"):
            message = f"{func.__name__}: {message}"
        raise error_for(status)(message, status)
    return status


def _declare():
    missing = []
    for name, (res, args) in DECLARATIONS.items():
        try:
            f = getattr(lib, name)
        except AttributeError:
            missing.append(name)
            continue
        f.argtypes = args
        if res == S:
            f.restype = c_int32
            f.errcheck = _check
        else:
            f.restype = res
    for name in missing:  # the ABI number matched, yet the function is absent: fail when used, naming it
        def absent(*_args, _name=name):
            raise NotImplementedError(f"{lib._name} does not export {_name} (test_abi.py fails on this build)")
        setattr(lib, name, absent)


_declare()
