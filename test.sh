#!/usr/bin/env bash
# Install what is missing, build (release), and run every test with ctest.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/setup.sh
source scripts/setup_web_tests.sh
ctest --preset release -j "$(nproc)" "$@"
