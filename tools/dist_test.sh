#!/usr/bin/env bash
# Tests a binary distribution (tools/make_dist.sh) the way a host without Swift would use it: builds the C and
# C++ examples against DISTDIR only, then runs them and bin/leader in a mount namespace where the Swift
# toolchain's runtime folders are hidden under empty tmpfs mounts (unshare -m; as a fallback unshare -rm).
# Where no namespace can be made, checks instead (LD_DEBUG=files) that nothing under the toolchain is loaded,
# and says so. Usage: tools/dist_test.sh DISTDIR CHECKPOINT
set -euo pipefail
cd "$(dirname "$0")/.."
DISTDIR=$(cd "${1:?usage: dist_test.sh DISTDIR CHECKPOINT}" && pwd)
CKPT=$(readlink -f "${2:?usage: dist_test.sh DISTDIR CHECKPOINT}")
SO=$DISTDIR/lib/libleader.so
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for f in include/leader.h lib/libleader.so bin/leader README.md Examples/c/recommend.c Examples/cpp/leader.hpp; do
    [ -e "$DISTDIR/$f" ] || fail "$f missing from the distribution"
done
cmp -s include/leader.h "$DISTDIR/include/leader.h" || fail "dist header differs from include/leader.h"

# 1. Static checks: no Swift runtime needed, nothing unresolved, no absolute toolchain path in RUNPATH.
for f in "$SO" "$DISTDIR/bin/leader"; do
    ! readelf -d "$f" | grep -E '\(NEEDED\)' | grep -qE 'libswift|libFoundation|libdispatch|libBlocksRuntime' ||
        fail "$f needs the Swift runtime: $(readelf -d "$f" | grep NEEDED | tr -s ' ')"
    ! ldd "$f" | grep -q 'not found' || fail "$f has unresolved dependencies: $(ldd "$f" | grep 'not found')"
    rp=$(readelf -d "$f" | sed -n 's/.*(R[UN]*PATH).*\[\(.*\)\]/\1/p')
    case "$rp" in *swift*) fail "$f has a toolchain RUNPATH: $rp" ;; esac
done
readelf -d "$SO" | grep -q 'SONAME.*\[libleader.so\]' || fail "SONAME is not libleader.so"
echo "ldd $SO:"; ldd "$SO" | sed 's/^/    /'

# 2. Hosts built against the distribution only (its header, its library, rpath to its lib/).
cc -std=c11 -Wall -Wextra -Werror -I"$DISTDIR/include" "$DISTDIR/Examples/c/recommend.c" -o "$WORK/recommend" \
    -L"$DISTDIR/lib" -lleader -lm -Wl,-rpath,"$DISTDIR/lib"
c++ -std=c++17 -Wall -Wextra -Werror -pthread -I"$DISTDIR/include" -I"$DISTDIR/Examples/cpp" \
    "$DISTDIR/Examples/cpp/serve_threads.cpp" -o "$WORK/serve_threads" -L"$DISTDIR/lib" -lleader \
    -Wl,-rpath,"$DISTDIR/lib"
cat >"$WORK/patient.json" <<'EOF'
{"visits": [{"diagnoses": ["4019", "25000"], "procedures": ["3893"], "medications": ["C09A"]}],
 "current": {"diagnoses": ["4019", "5849"], "procedures": []}, "profile": {"gender": "F"}}
EOF

# 3. What runs with the toolchain hidden. $HIDDEN: folders that must be invisible.
cat >"$WORK/hidden_run.sh" <<EOF
set -euo pipefail
for d in \$HIDDEN; do
    [ -d "\$d" ] || continue
    mount -t tmpfs -o ro,size=1m leader-dist-test "\$d"
    [ -z "\$(ls -A "\$d")" ] || { echo "FAIL: \$d still visible" >&2; exit 1; }
    echo "hidden: \$d"
done
unset LD_LIBRARY_PATH LD_PRELOAD
! ldd "$SO" | grep -q 'not found'
"$WORK/recommend" "$CKPT"
"$WORK/serve_threads" "$CKPT" 4 300
"$DISTDIR/bin/leader" --version
"$DISTDIR/bin/leader" recommend --checkpoint "$CKPT" --patient "$WORK/patient.json" --json | head -c 400; echo
EOF

HIDDEN=""
if command -v swift >/dev/null 2>&1; then
    TOOLCHAIN=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")   # .../usr
    for d in "$TOOLCHAIN/lib/swift" "$TOOLCHAIN/lib/swift_static"; do [ -d "$d" ] && HIDDEN="$HIDDEN $d"; done
    echo "toolchain: $TOOLCHAIN"
else
    TOOLCHAIN=""
    echo "no Swift toolchain on PATH: nothing to hide"
fi
export HIDDEN

if unshare -m --propagation private true 2>/dev/null; then
    unshare -m --propagation private bash "$WORK/hidden_run.sh"
    echo "dist serves with the Swift toolchain hidden (unshare -m)"
elif unshare -r -m --propagation private true 2>/dev/null; then
    unshare -r -m --propagation private bash "$WORK/hidden_run.sh"
    echo "dist serves with the Swift toolchain hidden (unshare -rm, user namespace)"
else
    # No mount namespace: run normally and require that no file under the toolchain is even opened.
    echo "unshare not permitted: checking with LD_DEBUG=files that nothing under ${TOOLCHAIN:-the toolchain} is loaded"
    HIDDEN="" LD_DEBUG=files LD_DEBUG_OUTPUT="$WORK/ld" bash "$WORK/hidden_run.sh"
    if [ -n "$TOOLCHAIN" ] && grep -h "file=$TOOLCHAIN" "$WORK"/ld.* 2>/dev/null | grep -q .; then
        fail "a file of the toolchain was loaded: $(grep -h "file=$TOOLCHAIN" "$WORK"/ld.* | head -3)"
    fi
    echo "dist serves without loading anything of the Swift toolchain (weaker check: toolchain present)"
fi
