#!/usr/bin/env bash
# Installs Debian's chromium for the web board's browser tests (Playwright drives it; no
# browser download).
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq chromium >&2
fi
