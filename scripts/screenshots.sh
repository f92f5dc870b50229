#!/usr/bin/env bash
# Retake the README's map screenshots (docs/img/*.png): installs Chromium and the
# CJK fonts the pictures need, then photographs each map type of the sample county.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || {
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq fonts-noto-cjk >/dev/null
}
.venv/bin/python scripts/screenshots.py
