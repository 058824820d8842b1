#!/usr/bin/env bash
# Shared by run.sh and test.sh: install what a fresh Debian 12 machine lacks (apt, by
# package name), then configure and build the release preset. Sourced, not executed.
set -euo pipefail

OC_PACKAGES=(build-essential cmake ninja-build pkg-config libpcre2-dev libcli11-dev
             libgtest-dev libgmock-dev libbenchmark-dev python3-numpy)

oc_install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

oc_build() {  # oc_build PRESET
  local preset=$1
  cmake --preset "$preset" -DOC_WERROR="${OC_WERROR:-OFF}" >/dev/null
  cmake --build --preset "$preset" -j "$(nproc)"
}

oc_install_packages "${OC_PACKAGES[@]}"
oc_build release
