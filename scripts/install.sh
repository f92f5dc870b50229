#!/usr/bin/env bash
# Install geogrid on a fresh Debian/Ubuntu machine: system packages (mod_spatialite,
# Debian's python3 whose sqlite3 can load extensions) and a virtualenv in .venv.
# Usage: scripts/install.sh [--test]   (--test adds PostGIS and the test tools)
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

packages=(python3 python3-venv python3-dev libsqlite3-mod-spatialite)
if [ "${1:-}" = "--test" ]; then
    packages+=(postgresql postgresql-contrib postgis chromium chromium-driver gdal-bin)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> apt-get install ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Debian's /usr/bin/python3, not a pyenv or conda build: those often compile
# sqlite3 without extension loading, and mod_spatialite then cannot be loaded.
if [ ! -x .venv/bin/python ]; then
    /usr/bin/python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "${1:-}" = "--test" ]; then
    .venv/bin/python -m pip install -q -e ".[postgis]" --group test --group lint
else
    .venv/bin/python -m pip install -q -e .
fi
