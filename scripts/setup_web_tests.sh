#!/usr/bin/env bash
# Sourced by test.sh: what the server's browser and client tests need — Node.js and npm,
# Debian's chromium, and tests/web's npm packages (openai, playwright-core; versions
# pinned by tests/web/package-lock.json, installed with `npm ci`).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
web_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/web" && pwd)"
pkgs=(chromium)
command -v node > /dev/null || pkgs+=(nodejs)
command -v npm > /dev/null || pkgs+=(npm)
oc_install_packages "${pkgs[@]}"
if [ ! -d "$web_dir/node_modules/openai" ] || [ ! -d "$web_dir/node_modules/playwright-core" ] ||
   [ "$web_dir/package-lock.json" -nt "$web_dir/node_modules" ]; then
  (cd "$web_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
