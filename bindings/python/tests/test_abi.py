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

P = ctypes.POINTER
C_TYPES = {
    "void": None, "void *": ctypes.c_void_p,
    "int32_t": ctypes.c_int32, "leader_status": ctypes.c_int32, "int64_t": ctypes.c_int64,
    "uint32_t": ctypes.c_uint32, "float": ctypes.c_float, "double": ctypes.c_double,
    "size_t": ctypes.c_size_t, "const char *": ctypes.c_char_p, "const float *": _capi.c_float_p,
    "float *": _capi.c_float_p,
    "int32_t *": P(ctypes.c_int32), "const int32_t *": P(ctypes.c_int32),
    "int64_t *": P(ctypes.c_int64), "const int64_t *": P(ctypes.c_int64),
    "const char *const *": P(ctypes.c_char_p), "const char **": P(ctypes.c_char_p),
    "leader_model *": P(_capi.leader_model), "const leader_model *": P(_capi.leader_model),
    "leader_model **": P(P(_capi.leader_model)),
    "leader_session *": P(_capi.leader_session), "leader_session **": P(P(_capi.leader_session)),
    "leader_trainer *": P(_capi.leader_trainer), "const leader_trainer *": P(_capi.leader_trainer),
    "leader_trainer **": P(P(_capi.leader_trainer)),
    "leader_progress_fn": _capi.progress_fn,
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


def ctype(t):
    """The ctypes type of a C type as the header spells it (spacing around '*' does not matter)."""
    table = {_norm(k): v for k, v in C_TYPES.items()}
    return table[_norm(t)]


def test_every_header_function_is_declared_with_matching_types():
    header = header_functions()
    assert header, "no functions parsed from leader.h"
    assert set(header) == set(_capi.DECLARATIONS), "binding and header list different functions"
    for name, (ret, params) in header.items():
        restype, argtypes = _capi.DECLARATIONS[name]
        assert len(params) == len(argtypes), f"{name}: arity {len(argtypes)} vs header {len(params)}"
        for i, (ct, pt) in enumerate(zip(params, argtypes)):
            assert ctype(ct) == pt, f"{name} parameter {i}: {ct} vs {pt}"
        expected_ret = "status" if ret == "leader_status" else ctype(ret)
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


def test_progress_fn_typedef_matches_header():
    text = re.sub(r"/\*.*?\*/", "", HEADER.read_text(), flags=re.S)
    m = re.search(r"typedef\s+(\w+)\s*\(\s*\*\s*leader_progress_fn\s*\)\s*\(([^)]*)\)\s*;", text)
    assert m, "leader_progress_fn typedef not found"
    params = [re.sub(r"\s*\b\w+$", "", " ".join(p.split())).replace(" *", " *").strip() for p in m.group(2).split(",")]
    assert ctype(m.group(1)) is _capi.progress_fn._restype_
    assert [ctype(p) for p in params] == list(_capi.progress_fn._argtypes_)


def test_abi_numbers_agree():
    header_abi = int(re.search(r"#define\s+LEADER_ABI_VERSION\s+(\d+)", HEADER.read_text()).group(1))
    assert leader.abi_version() == header_abi == leader.EXPECTED_ABI


def test_status_numbers_come_from_the_header():
    text = re.sub(r"/\*.*?\*/", "", HEADER.read_text(), flags=re.S)
    statuses = {name: int(num) for name, num in re.findall(r"\b(LEADER_(?:OK|ERR_\w+))\s*=\s*(-?\d+)", text)}
    assert statuses["LEADER_OK"] == 0
    errors = {name: num for name, num in statuses.items() if name != "LEADER_OK"}
    classes = {cls.constant: cls for cls in leader.errors.ERRORS}
    assert set(classes) == set(errors), "every LEADER_ERR_* has exactly one exception class"
    for name, num in errors.items():
        assert classes[name].status == num
        assert leader.errors.error_for(num) is classes[name]
        assert _capi.lib.leader_status_string(num) != b"unknown status", name
    assert leader.errors.error_for(12345) is leader.LeaderError


def test_header_constants_are_parsed():
    from leader._header import CONSTANTS
    assert CONSTANTS["LEADER_THRESHOLD_DEFAULT"] == leader.THRESHOLD_DEFAULT == -1.0
    assert {CONSTANTS[f"LEADER_KIND_{k.upper()}"] for k in leader.KINDS} == set(leader.KINDS.values())
    assert [leader.KINDS[k] for k in ("diagnosis", "procedure", "medication")] == [
        CONSTANTS["LEADER_KIND_DIAGNOSIS"], CONSTANTS["LEADER_KIND_PROCEDURE"], CONSTANTS["LEADER_KIND_MEDICATION"]]


def test_versions():
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
    with pytest.raises(leader.InvalidArgument, match=re.escape('leader_sgemm: negative size (m=2, n=2, k=-1)')):
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


def test_openmp_blocktime():
    for ms in (0, 200, -1):
        leader.set_openmp_blocktime(ms)
    for bad in (-2, 60001):
        with pytest.raises(leader.InvalidArgument,
                           match=re.escape(f"leader_set_openmp_blocktime: {bad} ms (expected -1...60000)")):
            leader.set_openmp_blocktime(bad)


def test_every_status_becomes_its_exception_with_the_last_error():
    """The errcheck path for every status of the header, including those no input here can provoke
    (out of memory, internal): class, number and leader_last_error() text."""
    buf = np.zeros(4, dtype=np.float32)
    p = buf.ctypes.data_as(_capi.c_float_p)
    with pytest.raises(leader.InvalidArgument, match=re.escape('leader_sgemm: negative size (m=2, n=2, k=-1)')):
        _capi.lib.leader_sgemm(2, 2, -1, 1.0, p, 2, p, 2, 0.0, p, 2, 1)   # leaves a message on this thread
    message = _capi.last_error()
    assert message == "leader_sgemm: negative size (m=2, n=2, k=-1)"   # names its function: not prefixed twice
    for cls in leader.errors.ERRORS:
        with pytest.raises(cls) as e:
            _capi._check(cls.status, _capi.lib.leader_sgemm, ())
        assert e.value.status == cls.status
        assert str(e.value) == message
    # a message that does not start with the function's name gets it as a prefix
    with pytest.raises(leader.InvalidArgument, match=re.escape(f"leader_model_load: {message}")):
        _capi._check(1, _capi.lib.leader_model_load, ())
    assert _capi._check(0, _capi.lib.leader_sgemm, ()) == 0
