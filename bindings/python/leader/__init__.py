"""leader: LEADER medication recommendation (Python bindings over libleader.so via ctypes).

    import leader
    with leader.Model.load("student.safetensors") as model, model.session() as session:
        patient = {"visits": [{"diagnoses": ["4019", "25000"], "procedures": [], "medications": ["C09A"]},
                              {"diagnoses": ["4019", "5849"], "procedures": ["3893"]}],
                   "profile": {"gender": "F"}}
        print(session.recommend(patient, top_k=5))              # rank, medication, title, score
        print(session.explain(patient, "C09A"))                 # kind, code, title, visit, contribution
        scores = session.scores(events)                         # long-format DataFrame -> patients x meds

leader.prepare builds a dataset from pandas DataFrames (MIMIC or OMOP tables from any database); Trainer runs
preparation, training and evaluation jobs; every library failure raises a LeaderError subclass
carrying leader_last_error().
"""
import json

import numpy as np

from . import _capi
from ._loader import EXPECTED_ABI
from .errors import (BadFile, BufferTooSmall, Cancelled, Incompatible, InternalError, InvalidArgument,
                     IOFailure, LeaderError, OutOfMemory, Overflow)
from .model import KINDS, THRESHOLD_DEFAULT, Model, Session
from .prepare import TABLES, prepare
from .trainer import Trainer, evaluation_frame

__all__ = ["Model", "Session", "Trainer", "evaluation_frame", "prepare", "TABLES", "KINDS", "THRESHOLD_DEFAULT",
           "version", "abi_version", "build_info", "set_openmp_blocktime", "sgemm", "library_path",
           "LeaderError", "InvalidArgument", "IOFailure", "BadFile", "Incompatible", "OutOfMemory",
           "BufferTooSmall", "Cancelled", "Overflow", "InternalError", "EXPECTED_ABI"]


def version() -> str:
    """Library version string, e.g. '0.1.0'."""
    return _capi.lib.leader_version_string().decode()


def abi_version() -> int:
    return _capi.lib.leader_abi_version()


def library_path() -> str:
    """The libleader.so this process loaded."""
    return _capi.lib._name


def build_info() -> dict:
    """Build facts: version, ABI, kernel ISA in use, OpenMP, bf16 path."""
    return json.loads(_capi.lib.leader_build_info().decode())


def set_openmp_blocktime(milliseconds: int) -> None:
    """How long the library's OpenMP workers spin after a parallel region (0: sleep at once; -1: default)."""
    _capi.lib.leader_set_openmp_blocktime(int(milliseconds))


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
