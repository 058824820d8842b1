#!/usr/bin/env bash
# The Python ctypes example (examples/python) against the shared library: it loads a model,
# generates greedily, and its bytes equal `omnicoder run --temp 0` on the same prompt; a
# missing model is a clean Python exception (exit 1), not a crash.
#   ctypes_example_test.sh LIBOMNICODER OMNICODER_BIN MODEL
set -euo pipefail
lib=$1 bin=$2 model=$3
here=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
prompt='def fibonacci(n):'
ours=$(mktemp) cli=$(mktemp) err=$(mktemp)
trap 'rm -f "$ours" "$cli" "$err"' EXIT
"$py" "$here/examples/python/generate.py" --lib "$lib" -m "$model" -p "$prompt" -n 24 -t 2 --raw > "$ours"
"$bin" run -m "$model" -p "$prompt" -n 24 -t 2 --temp 0 > "$cli" 2>/dev/null
if [ ! -s "$ours" ]; then echo "FAIL: the example printed nothing"; exit 1; fi
if ! cmp -s "$ours" "$cli"; then
  echo "FAIL: Python output differs from omnicoder run"; od -c "$ours" | head; od -c "$cli" | head; exit 1
fi
if "$py" "$here/examples/python/generate.py" --lib "$lib" -m /nonexistent/model.gguf 2> "$err"; then
  echo "FAIL: a missing model did not fail"; exit 1
fi
grep -q "nonexistent/model.gguf" "$err" || { echo "FAIL: no message naming the file:"; cat "$err"; exit 1; }
echo "ok: $(wc -c < "$ours") bytes, identical to omnicoder run"
