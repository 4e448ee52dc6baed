#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/fuzz_abi.c against a built libleader.so and runs each.
#   fuzz/run.sh LIBDIR SECONDS    SECONDS per target (0 = only replay the committed corpus and regressions)
# New crashes land in fuzz/crashes/<target>/ (commit them into fuzz/corpus/<target>/ once fixed); the summary
# line per target gives executions and findings. Exit status 1 on any crash.
set -uo pipefail
cd "$(dirname "$0")/.."
LIBDIR=$(cd "${1:?usage: fuzz/run.sh LIBDIR SECONDS}" && pwd)
SECONDS_PER_TARGET=${2:-30}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
CC=${FUZZ_CC:-clang}

# A small checkpoint to serve (the patient and options targets), made with the CLI.
L="$LIBDIR/leader"
"$L" synth --patients 150 --seed 3 --out "$OUT/c" --json >/dev/null &&
"$L" prepare --source mimic3 --input "$OUT/c" --maps "$OUT/c/maps" --out "$OUT/c.ldata" --json >/dev/null &&
"$L" student train --data "$OUT/c.ldata" --out "$OUT/s.safetensors" --json \
    --config '{"epochs": 1, "hidden": 8, "heads": 2, "ffnHidden": 8, "headHidden": 8}' >/dev/null ||
    { echo "fuzz: cannot make the serving checkpoint" >&2; exit 1; }
export LEADER_FUZZ_CHECKPOINT="$OUT/s.safetensors"
# The file targets: a 12-patient MIMIC-III folder (csv) and its prepared dataset (gguf); work files in $OUT.
"$L" synth --patients 12 --seed 5 --out "$OUT/m" --json >/dev/null &&
"$L" prepare --source mimic3 --input "$OUT/m" --maps "$OUT/m/maps" --out "$OUT/m.ldata" --json >/dev/null ||
    { echo "fuzz: cannot make the small cohort" >&2; exit 1; }
export LEADER_FUZZ_MIMIC="$OUT/m" LEADER_FUZZ_DATASET="$OUT/m.ldata" TMPDIR="$OUT"

failed=0
for target in ${FUZZ_TARGETS:-checkpoint patient options trainer dataset gguf csv}; do
    bin="$OUT/fuzz_$target"
    "$CC" -O1 -g -std=c11 -fsanitize=fuzzer,address -fuse-ld=lld -DTARGET_$target -Iinclude fuzz/fuzz_abi.c -o "$bin" \
        -L"$LIBDIR" -lleader -Wl,-rpath,"$LIBDIR" || { echo "fuzz: cannot build $target" >&2; exit 1; }
    mkdir -p "fuzz/corpus/$target" "fuzz/crashes/$target" "$OUT/work/$target"
    if [ "$SECONDS_PER_TARGET" -gt 0 ]; then
        maxlen=65536; [ "$target" = gguf ] && maxlen=131072   # the seed model is 70 KB
        args=(-max_total_time="$SECONDS_PER_TARGET" -max_len=$maxlen -timeout=20 -rss_limit_mb=4096
              -artifact_prefix="fuzz/crashes/$target/" "$OUT/work/$target" "fuzz/corpus/$target")
    else
        args=(-runs=0 "fuzz/corpus/$target")   # replay only: the seeds and every committed regression input
    fi
    "$bin" "${args[@]}" >"$OUT/log" 2>&1
    rc=$?
    runs=$(grep -oE '^#[0-9]+' "$OUT/log" | tail -1 | tr -d '#')
    inputs=$(ls "fuzz/corpus/$target" | wc -l)
    if [ $rc -eq 0 ]; then
        echo "fuzz $target: ${runs:-0} executions, 0 crashes (corpus $inputs inputs)"
    else
        failed=$((failed + 1))
        echo "fuzz $target: CRASH after ${runs:-?} executions (rc $rc); input in fuzz/crashes/$target/"
        grep -E "ERROR|Fatal error|SUMMARY|#[0-9]+ 0x" "$OUT/log" | head -20
    fi
done
[ "$failed" -eq 0 ]
