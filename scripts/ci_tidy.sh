#!/usr/bin/env bash
# clang-tidy (.clang-tidy) on the C++ files the latest change touched (or those given as
# arguments), with the release build's compile_commands.json (GCC-only warning flags in it,
# such as -Wno-maybe-uninitialized, are ignored). Fails on any finding.
#   scripts/ci_tidy.sh [FILE...]        OC_TIDY_BASE: the revision to diff against (HEAD~1)
set -euo pipefail
cd "$(dirname "$0")/.."
db=build/compile_commands.json
[ -f "$db" ] || { echo "ci_tidy: $db missing (build the release preset first)"; exit 1; }
if [ $# -gt 0 ]; then
  files=("$@")
else
  base=${OC_TIDY_BASE:-HEAD~1}
  if ! git rev-parse -q --verify "$base^{commit}" > /dev/null; then
    echo "ci_tidy: no revision $base to compare with; checking nothing"; exit 0
  fi
  mapfile -t files < <(git diff --name-only --diff-filter=AM "$base" HEAD -- 'src/*.cc' 'apps/*.cc' 'tools/*.cc' |
                       while read -r f; do grep -q "\"file\": \".*/$f\"" "$db" && echo "$f"; done)
fi
if [ ${#files[@]} -eq 0 ]; then echo "ci_tidy: no C++ sources changed"; exit 0; fi
echo "ci_tidy: ${#files[@]} file(s)"
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy-14 -p build --quiet --extra-arg=-Wno-unknown-warning-option 2>&1 |
  grep -v -E "^[0-9]+ warnings? (generated|treated)|^Suppressed|^Use -header-filter" | tee /tmp/ci_tidy.log || true
if grep -q -E "(error|warning):" /tmp/ci_tidy.log; then echo "ci_tidy: findings above"; exit 1; fi
echo "ci_tidy: clean"
