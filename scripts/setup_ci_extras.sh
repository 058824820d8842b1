#!/usr/bin/env bash
# CI-only packages (sourced after setup.sh): clang for libFuzzer, the aarch64 cross
# compiler and qemu-user to run its kernel self-test.
oc_install_packages clang libclang-rt-14-dev g++-aarch64-linux-gnu qemu-user
