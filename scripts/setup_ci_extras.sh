#!/usr/bin/env bash
# CI-only packages (sourced): clang for libFuzzer, the aarch64 cross compiler and
# qemu-user to run the cross-built tests.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
oc_install_packages clang libclang-rt-14-dev g++-aarch64-linux-gnu qemu-user
