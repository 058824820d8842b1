#!/usr/bin/env bash
# Install what is missing, build, and run the main job: generate text with the built-in
# default model. The default model is a small MoE (qwen3moe layout, 8 experts, top-2)
# with UNTRAINED synthetic weights written by our generator on first run: its text is
# noise until a trained model replaces it. Pass a real GGUF with MODEL=path/to.gguf.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup.sh
model=${MODEL:-models/default-moe-untrained.gguf}
if [ ! -f "$model" ]; then
  mkdir -p "$(dirname "$model")"
  echo "writing the built-in default model (UNTRAINED synthetic weights) to $model" >&2
  build/bin/omnicoder-make-model default "$model" -t "$(nproc)"
fi
[ -z "${MODEL:-}" ] && echo "note: $model is UNTRAINED; expect noise, not language" >&2
exec build/bin/omnicoder run -m "$model" -p "${PROMPT:-Once upon a time}" -n "${N:-64}" --seed 42 "$@"
