#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs them side by side for N
# seconds each (one log per target, printed when it fails or finds a crash).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
targets=(fuzz_gguf fuzz_tokenizer fuzz_chat_template)
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" --target "${targets[@]}"
pids=()
for target in "${targets[@]}"; do
  corpus=build/fuzz/corpus-$target
  mkdir -p "$corpus"
  echo "fuzzing $target for ${secs}s"
  build/fuzz/bin/$target -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 "$corpus" \
    "tests/fuzz/seeds-$target" >"build/fuzz/$target.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
  target=${targets[$i]}
  if wait "${pids[$i]}"; then
    echo "$target: $(grep -E '^Done [0-9]+ runs' "build/fuzz/$target.log" || echo 'done')"
  else
    echo "FAILED: $target"
    cat "build/fuzz/$target.log"
    failed=1
  fi
done
exit "$failed"
