#!/usr/bin/env bash
# Tests libleader.so through its real hosts: the C and C++ examples (serving from a checkpoint made here with the
# CLI, threads, training), the header as C99/C++11, the ABI freeze list, the Python binding (pytest: declarations
# vs header, exported symbols, errors, threads), the shared-object hygiene (SONAME, exports == header functions,
# exactly one OpenMP runtime) and the binary distribution with the Swift toolchain hidden.
# Usage: tools/run_host_tests.sh LIBDIR   (LIBDIR holds libleader.so and the CLI `leader`)
set -uo pipefail
cd "$(dirname "$0")/.."
LIBDIR=$(cd "${1:?usage: run_host_tests.sh LIBDIR}" && pwd)
SO="$LIBDIR/libleader.so"
PYTHON=${PYTHON:-python3}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
passed=0; failed=0
step() {  # step NAME COMMAND...
    local name=$1; shift
    if "$@" >"$OUT/log" 2>&1; then passed=$((passed + 1)); echo "ok   $name"
    else failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$OUT/log" | tail -40; fi
}

LINK=(-L"$LIBDIR" -lleader -Wl,-rpath,"$LIBDIR")

# ---- The shared object and the header --------------------------------------------------------------------
header_functions() {  # the function names declared in include/leader.h (comments stripped first)
    cc -fpreprocessed -dD -E -P -x c include/leader.h | grep -oE '\bleader_[a-z0-9_]+ *\(' |
        grep -oE 'leader_[a-z0-9_]+' | sort -u
}
exports_equal_header() {
    diff <(header_functions) <(nm -D --defined-only "$SO" | awk '{print $NF}' | sed 's/@.*//' | sort -u) &&
        echo "$(header_functions | wc -l) functions"
}
abi_list_equals_header() {
    diff <(header_functions) <(grep -oE '^ *F\(leader_[a-z0-9_]+\)' Examples/c/abi_check.c |
        grep -oE 'leader_[a-z0-9_]+' | sort -u)
}
step "SONAME is libleader.so" bash -c "readelf -d '$SO' | grep -q 'SONAME.*\[libleader.so\]'"
step "exported symbols == header functions (nm -D)" exports_equal_header
step "exactly one OpenMP runtime" bash -c "[ \$(ldd '$SO' | grep -cE 'lib(omp|iomp5|gomp)') -eq 1 ]"
step "no Swift runtime needed at load" bash -c "! ldd '$SO' | grep -q libswift"
step "header compiles as C++11" c++ -std=c++11 -fsyntax-only -Wall -Wextra -Werror -x c++ include/leader.h
step "header compiles as C99 pedantic" cc -std=c99 -pedantic -fsyntax-only -Wall -Wextra -Werror -x c include/leader.h
step "ABI freeze list (abi_check.c) == header functions" abi_list_equals_header
step "ABI freeze: every function typed as for its ABI version, all link" \
    cc -std=c11 -Wall -Wextra -Werror -pedantic-errors -Iinclude Examples/c/abi_check.c -o "$OUT/abi_check" "${LINK[@]}"
step "ABI freeze check runs" "$OUT/abi_check"

# ---- C hosts ----------------------------------------------------------------------------------------------
step "C example builds (-Wall -Wextra -Werror)" \
    cc -std=c11 -Wall -Wextra -Werror -Iinclude Examples/c/gemm_and_errors.c -o "$OUT/c_host" "${LINK[@]}"
step "C example runs" "$OUT/c_host"
for isa in avx512 avx2 generic; do
    step "C example runs with LEADER_ISA=$isa" env LEADER_ISA=$isa "$OUT/c_host"
done

# A small checkpoint for the serving examples, made with the CLI (seconds).
CKPT="$OUT/s.safetensors"
make_checkpoint() {
    local L="$LIBDIR/leader"
    "$L" synth --patients 300 --seed 1 --out "$OUT/c" --json >/dev/null &&
        "$L" prepare --source mimic3 --input "$OUT/c" --maps "$OUT/c/maps" --out "$OUT/c.ldata" --json >/dev/null &&
        "$L" student train --data "$OUT/c.ldata" --out "$CKPT" --config '{"epochs":2}' --json >/dev/null
}
step "checkpoint for the serving examples (leader synth/prepare/student train)" make_checkpoint
step "C recommend example builds (-Wall -Wextra -Werror)" \
    cc -std=c11 -Wall -Wextra -Werror -Iinclude Examples/c/recommend.c -o "$OUT/recommend" "${LINK[@]}" -lm
step "C recommend example runs" "$OUT/recommend" "$CKPT"
for isa in avx512 avx2 generic; do
    step "C recommend example runs with LEADER_ISA=$isa" env LEADER_ISA=$isa "$OUT/recommend" "$CKPT"
done

# ---- C++ hosts --------------------------------------------------------------------------------------------
CXX_FLAGS=(-std=c++17 -Wall -Wextra -Werror -pthread -Iinclude -IExamples/cpp)
step "C++ example builds (-std=c++17 -Werror)" \
    c++ "${CXX_FLAGS[@]}" Examples/cpp/errors.cpp -o "$OUT/cpp_host" "${LINK[@]}"
step "C++ example runs" "$OUT/cpp_host"
step "leader.hpp compiles alone (-Wpedantic -Wshadow -Wconversion)" \
    c++ "${CXX_FLAGS[@]}" -Wpedantic -Wshadow -Wconversion -fsyntax-only -x c++ Examples/cpp/leader.hpp
step "C++ serve_threads builds (-std=c++17 -Werror -pthread)" \
    c++ "${CXX_FLAGS[@]}" Examples/cpp/serve_threads.cpp -o "$OUT/serve_threads" "${LINK[@]}"
step "C++ serve_threads runs (8 threads x 1200, bitwise vs serial and vs score_batch)" \
    "$OUT/serve_threads" "$CKPT" 8 1200
step "C++ train builds (-std=c++17 -Werror)" c++ "${CXX_FLAGS[@]}" Examples/cpp/train.cpp -o "$OUT/train" "${LINK[@]}"
step "C++ train runs (progress, cancel, callback exception, evaluate, serve)" \
    bash -c "mkdir -p '$OUT/train_out' && '$OUT/train' '$OUT/c.ldata' '$OUT/train_out'"

# ---- Binary distribution ----------------------------------------------------------------------------------
step "dist assembles (tools/make_dist.sh)" tools/make_dist.sh "$LIBDIR" "$OUT/dist"
step "dist serves with the Swift toolchain hidden (tools/dist_test.sh)" tools/dist_test.sh "$OUT/dist" "$CKPT"

# ---- Crash safety -------------------------------------------------------------------------------------------
step "training killed with SIGKILL mid-epoch: no partial file, resumes to the uninterrupted run's exact bytes" \
    tools/kill_resume_test.sh "$LIBDIR"

# ---- Leaks --------------------------------------------------------------------------------------------------
leak_check() {
    ${FUZZ_CC:-clang} -g -Wall -Wextra -fsanitize=address -fuse-ld=lld -Iinclude tools/leak_check.c -o "$OUT/leak_check" \
        "${LINK[@]}" && "$OUT/leak_check" "$CKPT" 1000
}
step "LeakSanitizer: 1,000 load/session/recommend/error/trainer/free cycles through the .so (make sanitize: 10,000)" \
    leak_check

# ---- Fuzz regression ----------------------------------------------------------------------------------------
step "fuzz targets replay their corpus and regression inputs (fuzz/run.sh, 0 s of new fuzzing)" \
    fuzz/run.sh "$LIBDIR" 0

# ---- The CLI -------------------------------------------------------------------------------------------------
step "CLI end to end (pytest Tests/cli: every command from a temporary folder, files, JSON, exit codes, messages)" \
    env LEADER_CLI="$LIBDIR/leader" "$PYTHON" -m pytest -q -rs -p no:cacheprovider Tests/cli

# ---- Python ------------------------------------------------------------------------------------------------
PYTEST=(env LEADER_LIBRARY="$SO" "$PYTHON" -m pytest -q -rs -p no:cacheprovider)
step "Python binding (pytest: header vs ctypes, every status, serving, batch, 8 threads, trainer)" \
    "${PYTEST[@]}" bindings/python/tests --ignore=bindings/python/tests/test_examples.py \
    --ignore=bindings/python/tests/test_packaging.py
step "Python examples (pytest: quickstart.py, quickstart.ipynb via nbclient, Dask on 2 workers)" \
    "${PYTEST[@]}" bindings/python/tests/test_examples.py
step "Python packaging (pytest: wheel in a fresh venv without LEADER_LIBRARY, pip install -e)" \
    "${PYTEST[@]}" bindings/python/tests/test_packaging.py

echo "host-tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
