#!/usr/bin/env bash
# Install what is missing, build, and run the main job: continue a Python prompt with the
# default model, omnicoder-nano (models/omnicoder-nano.gguf: our own 13M-parameter MoE,
# 8 experts top-2, trained here on Debian's Python sources; see models/omnicoder-nano.md).
# Another model: MODEL=path/to.gguf PROMPT="..." ./run.sh [omnicoder run flags]
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup.sh
model=${MODEL:-models/omnicoder-nano.gguf}
if [ ! -f "$model" ]; then
  echo "run.sh: $model is missing (the default model is part of the repository)" >&2
  exit 1
fi
default_prompt='import os


def find_files(root, suffix=".py"):
    """Yield the paths of files under root whose names end with suffix."""
'
prompt=${PROMPT:-$default_prompt}
[ -z "${PROMPT:-}" ] && printf '%s' "$prompt"
exec build/bin/omnicoder run -m "$model" -p "$prompt" -n "${N:-128}" --temp 0.7 --repeat-penalty 1.1 \
  --seed "${SEED:-42}" "$@"
