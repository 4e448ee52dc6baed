#!/usr/bin/env bash
# Tests libleader.so through its real hosts: the C and C++ examples, the header as C++, the Python binding
# (pytest: declarations vs header, exported symbols, errors, threads) and the shared-object hygiene
# (SONAME, exported symbols, exactly one OpenMP runtime). Usage: tools/run_host_tests.sh LIBDIR
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

step "C example builds (-Wall -Wextra -Werror)" \
    cc -std=c11 -Wall -Wextra -Werror -Iinclude Examples/c/gemm_and_errors.c -o "$OUT/c_host" \
       -L"$LIBDIR" -lleader -Wl,-rpath,"$LIBDIR"
step "C example runs" "$OUT/c_host"
for isa in avx512 avx2 generic; do
    step "C example runs with LEADER_ISA=$isa" env LEADER_ISA=$isa "$OUT/c_host"
done
step "C++ example builds (-std=c++17 -Werror)" \
    c++ -std=c++17 -Wall -Wextra -Werror -Iinclude Examples/cpp/errors.cpp -o "$OUT/cpp_host" \
        -L"$LIBDIR" -lleader -Wl,-rpath,"$LIBDIR"
step "C++ example runs" "$OUT/cpp_host"
step "header compiles as C++11" c++ -std=c++11 -fsyntax-only -Wall -Wextra -Werror -x c++ include/leader.h
step "header compiles as C99 pedantic" cc -std=c99 -pedantic -fsyntax-only -Wall -Wextra -Werror -x c include/leader.h
step "SONAME is libleader.so" bash -c "readelf -d '$SO' | grep -q 'SONAME.*\[libleader.so\]'"
step "exactly one OpenMP runtime" bash -c "[ \$(ldd '$SO' | grep -cE 'lib(omp|iomp5|gomp)') -eq 1 ]"
step "no Swift runtime needed at load" bash -c "! ldd '$SO' | grep -q libswift"
step "Python binding (pytest)" env LEADER_LIBRARY="$SO" "$PYTHON" -m pytest -q bindings/python/tests

echo "host-tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
