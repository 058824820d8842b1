#!/usr/bin/env bash
# Shell functions shared by the set-up scripts (sourced).

OC_PACKAGES=(build-essential cmake ninja-build pkg-config libpcre2-dev libcli11-dev libcpp-httplib-dev nlohmann-json3-dev
             libgtest-dev libgmock-dev libbenchmark-dev python3-numpy python3-jinja2)

# Installs the given Debian packages that are not installed yet.
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

# Configures and builds a CMake preset (-Werror when OC_WERROR=ON).
oc_build() {
  local preset=$1
  cmake --preset "$preset" -DOC_WERROR="${OC_WERROR:-OFF}" >/dev/null
  cmake --build --preset "$preset" -j "$(nproc)"
}
