#!/usr/bin/env bash
# Assembles the binary distribution from a dist build (`make build`): DISTDIR/include/leader.h,
# lib/libleader.so (static Swift runtime), bin/leader (the CLI), Examples/ and README.md.
# Replaces only those entries of DISTDIR (other rules, e.g. dist-python, may add theirs beside them).
# Refuses to ship a library or CLI that needs the Swift runtime or exports more than leader_*.
# Usage: tools/make_dist.sh LIBDIR DISTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
LIBDIR=$(cd "${1:?usage: make_dist.sh LIBDIR DISTDIR}" && pwd)
DISTDIR=${2:?usage: make_dist.sh LIBDIR DISTDIR}
SO=$LIBDIR/libleader.so
CLI=$LIBDIR/leader-cli
[ -f "$SO" ] || { echo "make_dist: $SO missing (make build)" >&2; exit 1; }
[ -f "$CLI" ] || { echo "make_dist: $CLI missing (make build)" >&2; exit 1; }

needs_swift() { readelf -d "$1" | grep -E '\(NEEDED\)' | grep -qE 'libswift|libFoundation|libdispatch|libBlocksRuntime|lib_Foundation'; }
for f in "$SO" "$CLI"; do
    if needs_swift "$f"; then
        echo "make_dist: $f needs the Swift runtime; build with -Xswiftc -static-stdlib (make build)" >&2
        exit 1
    fi
done
extra=$(nm -D --defined-only "$SO" | awk '{print $NF}' | grep -v '^leader_' || true)
[ -z "$extra" ] || { echo "make_dist: $SO exports more than leader_*: $extra" >&2; exit 1; }

mkdir -p "$DISTDIR"
DISTDIR=$(cd "$DISTDIR" && pwd)
rm -rf "$DISTDIR/include" "$DISTDIR/lib/libleader.so" "$DISTDIR/bin/leader" "$DISTDIR/Examples" "$DISTDIR/README.md" \
    "$DISTDIR/data"
mkdir -p "$DISTDIR/include" "$DISTDIR/lib" "$DISTDIR/bin"
cp include/leader.h "$DISTDIR/include/"
# Stripping drops the static symbol table and debug info only; .dynsym (the leader_* exports) stays.
strip --strip-unneeded -o "$DISTDIR/lib/libleader.so" "$SO"
strip -o "$DISTDIR/bin/leader" "$CLI"
cp -r Examples "$DISTDIR/Examples"
cp -r data "$DISTDIR/data"   # the medication maps and DDI pairs, found by the library beside lib/ and bin/

version=$("$DISTDIR/bin/leader" --version 2>/dev/null || echo unknown)
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' '; }
cat >"$DISTDIR/README.md" <<EOF
# libleader $version — binary distribution (Linux x86-64)

LEADER medication recommendation as a C library with a stable C ABI (\`include/leader.h\`, ABI version
$(sed -n 's/^#define LEADER_ABI_VERSION \([0-9]*\).*/\1/p' include/leader.h)), the \`leader\` command-line tool and example hosts in C and C++.

\`\`\`
include/leader.h      the contract: every function, its ownership rules and status codes
lib/libleader.so      the library (SONAME libleader.so; exports only leader_*; Swift runtime linked in)
bin/leader            the command-line tool (synth, prepare, student train, eval, recommend, ...)
Examples/c/           C hosts: recommend.c (serving), gemm_and_errors.c, abi_check.c
Examples/cpp/         leader.hpp (header-only C++17 RAII wrapper), serve_threads.cpp, train.cpp, errors.cpp
python/               the Python binding as a wheel with this library inside (when built by \`make dist\`)
data/                 medication maps (NDC/GSN/name -> ATC) and DDI pairs, MIT, used when --maps/--ddi are not given
\`\`\`

## What a host needs

No Swift toolchain: the Swift runtime (and the parts of Foundation the code uses) is linked statically into both
files. The host needs only these shared libraries (Debian 12 package names):

| library | Debian package | needed by |
|---|---|---|
| libc.so.6, libm.so.6 | \`libc6\` | both |
| libstdc++.so.6, libgcc_s.so.1 | \`libstdc++6\`, \`libgcc-s1\` | both |
| libomp.so.5 (LLVM OpenMP) | \`libomp5\` (\`libomp5-14\` on Debian 12) | both |
| libz.so.1 | \`zlib1g\` | both |

\`\`\`sh
sudo apt-get install libomp5 zlib1g libstdc++6
\`\`\`

OMOP from PostgreSQL (\`prepare --input postgresql://…\`) also needs \`libpq5\`, loaded only when such an input is used.

Exact \`NEEDED\` entries of this build — libleader.so: $(needed "$SO")— bin/leader: $(needed "$CLI")

libleader.so finds its dependencies through the system loader path (its RUNPATH is \`\$ORIGIN\`, so a
libomp.so.5 copied next to it is found too). Do not load a second OpenMP runtime (libgomp, libiomp5) into the
same process.

## Compiling a host

\`\`\`sh
D=/path/to/this/folder
cc  -std=c11   -I\$D/include           \$D/Examples/c/recommend.c        -L\$D/lib -lleader -lm -Wl,-rpath,\$D/lib -o recommend
c++ -std=c++17 -I\$D/include -I\$D/Examples/cpp \$D/Examples/cpp/serve_threads.cpp -L\$D/lib -lleader -pthread -Wl,-rpath,\$D/lib -o serve_threads
\`\`\`

\`-Wl,-rpath,<dir>\` records where libleader.so lives; alternatively copy it into a system library folder or
set \`LD_LIBRARY_PATH\`. Check at run time that the header and the library agree:
\`leader_abi_version() == LEADER_ABI_VERSION\`.

## Trying it

\`\`\`sh
bin/leader synth --patients 300 --seed 1 --out cohort
bin/leader prepare --source mimic3 --input cohort --maps cohort/maps --out cohort.ldata
bin/leader student train --data cohort.ldata --out student.safetensors
./recommend student.safetensors           # the C example: recommend, explain, buffer handling
./serve_threads student.safetensors       # the C++ example: 8 threads, one shared model
\`\`\`

Threading: a \`leader_model\` is shared by any number of threads; give each thread its own \`leader_session\`.
The library never reads or sets \`OMP_NUM_THREADS\`; thread counts come from the API.
EOF
echo "dist: $DISTDIR ($(du -sh "$DISTDIR" | cut -f1))"
