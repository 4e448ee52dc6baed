#!/bin/bash
# Creates the PyHealth peers' environment in <repo>/.venv-peers (or $PEERS_VENV) from requirements.txt.
# Idempotent: does nothing when PyHealth already imports there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${PEERS_VENV:-$(cd "$here/../.." && pwd)/.venv-peers}
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import pyhealth, torch" 2>/dev/null; then exit 0; fi
echo "bench/peers: creating $venv (torch CPU, PyHealth 1.1.6)" >&2
python3 -m venv "$venv"
"$venv/bin/pip" install -q -r "$here/requirements.txt"
"$venv/bin/pip" install -q --no-deps pyhealth==1.1.6
