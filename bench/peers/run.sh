#!/bin/bash
# bench/peers/run.sh CONFIG.json [run_peers.py options]
# The pipeline's report with the PyHealth peers beside LEADER, on the same patients and scored by leader's metric
# code: runs (or resumes) `leader pipeline --config CONFIG.json`, exports its dataset with `leader samples`, trains
# the peers (run_peers.py, in the environment setup.sh makes), then runs the pipeline again with "peers" added
# (every step is reused; only the report is written again). Outputs: OUT/peers/, OUT/report.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
LEADER=${LEADER:-$root/.build-dist/release/leader}
venv=${PEERS_VENV:-$root/.venv-peers}
[ $# -ge 1 ] || { echo "usage: bench/peers/run.sh CONFIG.json [run_peers.py options]" >&2; exit 2; }
config=$1; shift
PEERS_VENV=$venv "$here/setup.sh"
"$LEADER" pipeline --config @"$config"
# out and the dataset the pipeline used (paths may hold spaces)
out=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["out"])' "$config")
data=$(python3 -c '
import json, os, sys
c = json.load(open(sys.argv[1]))
print(c.get("data") or os.path.join(c["out"], "cohort.ldata"))' "$config")
mkdir -p "$out/peers"
"$LEADER" samples --data "$data" --out "$out/peers/samples.jsonl"
"$venv/bin/python" "$here/run_peers.py" --samples "$out/peers/samples.jsonl" --out "$out/peers" \
    --ddi "$root/data/ddi_atc3_pairs.csv" "$@"
python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
c["peers"] = json.load(open(sys.argv[2]))
json.dump(c, open(sys.argv[3], "w"), indent=2)' "$config" "$out/peers/peers.json" "$out/peers/pipeline.json"
"$LEADER" pipeline --config @"$out/peers/pipeline.json"
