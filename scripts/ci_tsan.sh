#!/usr/bin/env bash
# The threaded code under ThreadSanitizer: the thread pool's tests in full, and the runtime
# tests that run the pool, the expert pager's I/O threads and batched sequences together
# and the server with its scheduler and HTTP threads
# (not the 270-configuration paged == resident sweep: hours under TSan; the plain and ASan
# runs have it).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset tsan -DOC_WERROR="${OC_WERROR:-OFF}" > /dev/null
cmake --build --preset tsan -j "$(nproc)" --target threading_test runtime_test server_test omnicoder_cli
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/scripts/tsan.supp"
build/tsan/bin/threading_test
build/tsan/bin/runtime_test --gtest_filter="${OC_TSAN_FILTER:-Pager.*:Batch.*:MoeWaves.*:Session.ThreadCountDoesNotChangeLogits-Pager.PagedOutputIsBitIdenticalToResident}"
# The server's scheduler, HTTP threads and channels (the server binary under test is the
# TSan build too: a race makes it exit non-zero, which fails the test).
build/tsan/bin/server_test --gtest_filter='Server.*:SlowServer.*'
