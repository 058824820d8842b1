#!/usr/bin/env bash
# CI-only packages (sourced): clang for libFuzzer, clang-format and clang-tidy, the aarch64 cross compiler and
# qemu-user to run the cross-built tests.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
oc_install_packages clang clang-format-14 clang-tidy-14 libclang-rt-14-dev g++-aarch64-linux-gnu qemu-user
