#!/usr/bin/env bash
# Cross-compiles the lower layers (NEON kernels included) for aarch64 and runs their unit
# tests under qemu-user.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset aarch64 -DOC_WERROR=ON >/dev/null
cmake --build --preset aarch64 -j "$(nproc)"
if ! command -v qemu-aarch64 >/dev/null; then
  echo "qemu-aarch64 not found: built, not run"
  exit 0
fi
for t in base tensor threading kernels; do
  echo "--- $t (qemu-aarch64)"
  qemu-aarch64 -L /usr/aarch64-linux-gnu "build/aarch64/bin/${t}_test" --gtest_brief=1
done
