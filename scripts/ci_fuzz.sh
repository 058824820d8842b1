#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs them side by side for N
# seconds each (one log per target, printed when it fails or finds a crash).
# Usage: ci_fuzz.sh [SECONDS] [PRESET]: PRESET "asan" (what CI passes: its build, made
# just before, already holds the targets) or "fuzz" (the default: the fuzzers alone).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
preset=${2:-fuzz}
targets=(fuzz_gguf fuzz_tokenizer fuzz_chat_template)
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)" --target "${targets[@]}"
dir=build/$preset
pids=()
for target in "${targets[@]}"; do
  corpus=$dir/corpus-$target
  mkdir -p "$corpus"
  echo "fuzzing $target for ${secs}s"
  $dir/bin/$target -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 "$corpus" \
    "tests/fuzz/seeds-$target" >"$dir/$target.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
  target=${targets[$i]}
  if wait "${pids[$i]}"; then
    echo "$target: $(grep -E '^Done [0-9]+ runs' "$dir/$target.log" || echo 'done')"
  else
    echo "FAILED: $target"
    cat "$dir/$target.log"
    failed=1
  fi
done
exit "$failed"
