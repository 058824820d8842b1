#!/usr/bin/env bash
# Shared by run.sh and test.sh: install what a fresh Debian 12 machine lacks (apt, by
# package name), then configure and build the release preset. Sourced, not executed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
oc_install_packages "${OC_PACKAGES[@]}"
oc_build release
