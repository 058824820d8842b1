#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for N seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"
for target in fuzz_gguf fuzz_tokenizer fuzz_chat_template; do
  corpus=build/fuzz/corpus-$target
  mkdir -p "$corpus"
  seeds=tests/fuzz/seeds-$target
  echo "fuzzing $target for ${secs}s"
  build/fuzz/bin/$target -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 "$corpus" "$seeds"
done
