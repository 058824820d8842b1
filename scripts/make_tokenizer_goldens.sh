#!/usr/bin/env bash
# Regenerates tests/golden/tokenizer/*.out: llama.cpp's token ids (BOS/EOS as each
# vocabulary's metadata says, special-token text not parsed) for tests/data/tokenizer_cases.txt.
# Needs ../shared/peers built (build_peer_tools.sh). Not run by tests.
set -euo pipefail
cd "$(dirname "$0")/.."
P=${PEERS_DIR:-$HOME/.cache/omnicoder-peers}/prebuilt
V=../shared/models/vocab
for name in llama-spm llama-bpe qwen2 deepseek-coder starcoder gpt-2 phi-3; do
  "$P/llama_peer" --tokenize-only -m "$V/ggml-vocab-$name.gguf" -f tests/data/tokenizer_cases.txt \
    --split $'\n__case__\n' > "tests/golden/tokenizer/$name.out" 2>/dev/null
  echo "$name: $(wc -l < tests/golden/tokenizer/$name.out) cases"
done
