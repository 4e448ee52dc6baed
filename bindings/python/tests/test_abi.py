"""The binding against the header and the built library: declarations, versions, errors, threads."""
import ctypes
import re
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

import leader
from leader import _capi

ROOT = Path(__file__).resolve().parents[3]
HEADER = ROOT / "include" / "leader.h"

C_TYPES = {
    "int32_t": ctypes.c_int32, "leader_status": ctypes.c_int32, "int64_t": ctypes.c_int64,
    "uint32_t": ctypes.c_uint32, "float": ctypes.c_float, "double": ctypes.c_double,
    "size_t": ctypes.c_size_t, "const char *": ctypes.c_char_p, "const float *": _capi.c_float_p,
    "float *": _capi.c_float_p,
}


def header_functions():
    """name -> (return type, [parameter types]) for every function declared in leader.h."""
    text = re.sub(r"/\*.*?\*/", "", HEADER.read_text(), flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    decls = {}
    for m in re.finditer(r"([A-Za-z_][\w \*]*?)\s*\b(leader_\w+)\s*\(([^;{]*?)\)\s*;", text):
        ret, name, params = m.group(1).strip(), m.group(2), m.group(3).strip()
        types = []
        if params and params != "void":
            for p in params.split(","):
                p = " ".join(p.split())
                p = re.sub(r"\s*\*\s*", " * ", p).strip()
                t = re.sub(r"\s*\b\w+$", "", p).strip()  # drop the parameter name
                types.append(t.replace(" * ", " *").replace("* ", "*").strip())
        decls[name] = (ret.replace(" *", " *").strip(), types)
    return decls


def _norm(t):
    return re.sub(r"\s+", " ", t.replace("*", " *")).replace(" *", " *").strip()


def test_every_header_function_is_declared_with_matching_types():
    header = header_functions()
    assert header, "no functions parsed from leader.h"
    assert set(header) == set(_capi.DECLARATIONS), "binding and header list different functions"
    for name, (ret, params) in header.items():
        restype, argtypes = _capi.DECLARATIONS[name]
        assert len(params) == len(argtypes), f"{name}: arity {len(argtypes)} vs header {len(params)}"
        for i, (ct, pt) in enumerate(zip(params, argtypes)):
            assert C_TYPES[_norm(ct).replace(" *", " *")] == pt, f"{name} parameter {i}: {ct} vs {pt}"
        expected_ret = "status" if ret == "leader_status" else C_TYPES[_norm(ret)]
        assert expected_ret == restype, f"{name}: return {ret} vs {restype}"


def test_exported_symbols_are_exactly_the_header_functions():
    so = Path(_capi.lib._name)
    out = subprocess.run(["nm", "-D", "--defined-only", str(so)], capture_output=True, text=True, check=True)
    exported = set()
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isupper():  # global (exported) symbols only
            exported.add(parts[2])
    assert exported == set(header_functions())


def test_versions():
    assert leader.abi_version() == 1
    assert re.fullmatch(r"\d+\.\d+\.\d+", leader.version())
    info = leader.build_info()
    assert info["version"] == leader.version()
    assert info["isa"] in {"avx512", "avx2", "generic"}
    assert info["openmp"] is True


def test_sgemm_matches_numpy():
    rng = np.random.default_rng(7)
    a = rng.standard_normal((37, 53), dtype=np.float32)
    b = rng.standard_normal((53, 29), dtype=np.float32)
    for threads in (1, 2):
        np.testing.assert_allclose(leader.sgemm(a, b, n_threads=threads), a @ b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("args,error,fragment", [
    ((2, 2, -1), leader.InvalidArgument, "negative"),
    ((-5, 2, 2), leader.InvalidArgument, "negative"),
    ((2**62, 4, 3), leader.Overflow, "overflows"),
])
def test_bad_sizes_raise_with_message(args, error, fragment):
    m, n, k = args
    buf = np.zeros(16, dtype=np.float32)
    p = buf.ctypes.data_as(_capi.c_float_p)
    with pytest.raises(error, match=fragment):
        _capi.lib.leader_sgemm(m, n, k, 1.0, p, max(k, 1), p, max(n, 1), 0.0, p, max(n, 1), 1)


def test_null_pointers_and_bad_threads_raise():
    buf = np.zeros(16, dtype=np.float32)
    p = buf.ctypes.data_as(_capi.c_float_p)
    with pytest.raises(leader.InvalidArgument, match="is NULL"):
        _capi.lib.leader_sgemm(2, 2, 2, 1.0, None, 2, p, 2, 0.0, p, 2, 1)
    with pytest.raises(leader.InvalidArgument, match="n_threads"):
        _capi.lib.leader_sgemm(2, 2, 2, 1.0, p, 2, p, 2, 0.0, p, 2, 5000)
    with pytest.raises(leader.InvalidArgument, match="leading dimension"):
        _capi.lib.leader_sgemm(2, 2, 3, 1.0, p, 1, p, 2, 0.0, p, 2, 1)


def test_last_error_is_per_thread_and_cleared_on_success():
    buf = np.zeros(16, dtype=np.float32)
    p = buf.ctypes.data_as(_capi.c_float_p)
    with pytest.raises(leader.InvalidArgument):
        _capi.lib.leader_sgemm(2, 2, -1, 1.0, p, 2, p, 2, 0.0, p, 2, 1)
    assert _capi.lib.leader_last_error() != b""
    seen = []
    t = threading.Thread(target=lambda: seen.append(_capi.lib.leader_last_error()))
    t.start()
    t.join()
    assert seen == [b""], "another thread must not see this thread's error"
    _capi.lib.leader_sgemm(1, 1, 1, 1.0, p, 1, p, 1, 0.0, p, 1, 1)
    assert _capi.lib.leader_last_error() == b""


def test_status_strings():
    assert _capi.lib.leader_status_string(0) == b"ok"
    assert _capi.lib.leader_status_string(8) == b"size overflow"
    assert _capi.lib.leader_status_string(-7) == b"unknown status"
