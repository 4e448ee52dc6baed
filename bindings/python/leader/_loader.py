"""Finds and opens libleader.so: $LEADER_LIBRARY, then this package's folder, then the repository's build
folder, then the system loader path. Checks the ABI version."""
import ctypes
import os
from pathlib import Path

EXPECTED_ABI = 2  # the ABI this binding's _capi.py declares; tests check it equals leader.h's


def _candidates():
    env = os.environ.get("LEADER_LIBRARY")
    if env:
        yield Path(env)
        return
    here = Path(__file__).resolve().parent
    yield here / "libleader.so"
    root = here.parent.parent.parent  # bindings/python/leader -> repository root
    yield root / ".build-dist" / "release" / "libleader.so"
    yield Path("libleader.so")


def load() -> ctypes.CDLL:
    tried = []
    for path in _candidates():
        if path.name != str(path) and not path.exists():
            tried.append(str(path))
            continue
        try:
            lib = ctypes.CDLL(str(path))
        except OSError as e:
            tried.append(f"{path} ({e})")
            continue
        lib.leader_abi_version.restype = ctypes.c_int32
        lib.leader_abi_version.argtypes = []
        abi = lib.leader_abi_version()
        if abi != EXPECTED_ABI:
            raise ImportError(f"{path}: libleader ABI {abi}, this binding expects ABI {EXPECTED_ABI}")
        return lib
    raise ImportError("libleader.so not found; tried: " + "; ".join(tried) + " (set LEADER_LIBRARY)")
