#!/usr/bin/env bash
# Install what the tests need (PostGIS included), start PostGIS on 127.0.0.1
# when none is reachable, run the lint checks and the whole test suite on
# SpatiaLite and PostGIS. PostGIS missing is a failure here, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
GEOGRID_TEST_POSTGRES_URL="$(bash scripts/start_postgis.sh)"
export GEOGRID_TEST_POSTGRES_URL
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports
.venv/bin/mypy
.venv/bin/python -m pytest --require-postgis "$@"
