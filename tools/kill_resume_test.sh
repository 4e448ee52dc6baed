#!/usr/bin/env bash
# Crash safety of training, with a real SIGKILL: a student run killed in the middle of an epoch leaves no
# checkpoint and no partial file, resumes from its train state (--resume), and ends with exactly the bytes of an
# uninterrupted run with the same seed. Usage: tools/kill_resume_test.sh LIBDIR
set -euo pipefail
L="$(cd "${1:?usage: kill_resume_test.sh LIBDIR}" && pwd)/leader"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cd "$OUT"
"$L" synth --patients 1000 --seed 4 --out c --json >/dev/null
"$L" prepare --source mimic3 --input c --maps c/maps --out c.ldata --json >/dev/null
CFG='{"epochs": 6, "patience": 100, "seed": 7}'
"$L" student train --data c.ldata --out whole.safetensors --config "$CFG" --threads 1 --json >/dev/null

mkdir run && cd run
"$L" student train --data ../c.ldata --out s.safetensors --config "$CFG" --threads 1 --json >/dev/null &
pid=$!
# wait for the state written after epoch 1, then for its rewrite after epoch 2, then kill inside epoch 3
for _ in $(seq 1 1200); do [ -s s.safetensors.state ] && break; sleep 0.05; done
first=$(stat -c %y s.safetensors.state)
for _ in $(seq 1 1200); do [ "$(stat -c %y s.safetensors.state)" != "$first" ] && break; sleep 0.05; done
sleep 0.3
kill -9 "$pid" 2>/dev/null || { echo "the run ended before it could be killed"; exit 1; }
wait "$pid" 2>/dev/null || true
[ ! -e s.safetensors ] || { echo "FAIL: a killed run left a checkpoint"; exit 1; }
leftovers=$(ls -A | grep -v '^s.safetensors.state$' || true)
[ -z "$leftovers" ] || { echo "FAIL: a killed run left files: $leftovers"; exit 1; }
resumed=$("$L" student train --data ../c.ldata --out s.safetensors --config "$CFG" --threads 1 --resume --json |
          sed -n 's/.*"resumedAtEpoch" : \([0-9]*\).*/\1/p')
[ -n "$resumed" ] && [ "$resumed" -ge 1 ] && [ "$resumed" -lt 6 ] || { echo "FAIL: did not resume (epoch '$resumed')"; exit 1; }
cmp -s s.safetensors ../whole.safetensors || { echo "FAIL: resumed at epoch $resumed, weights differ from the uninterrupted run"; exit 1; }
echo "killed mid-run, resumed at epoch $resumed, checkpoint byte-identical to the uninterrupted run"
