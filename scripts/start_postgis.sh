#!/usr/bin/env bash
# Make a PostGIS server reachable for the tests and print its SQLAlchemy URL.
# Uses GEOGRID_TEST_POSTGRES_URL when it already answers; otherwise starts the
# Debian cluster on 127.0.0.1 as the postgres user (initdb refuses root).
set -euo pipefail
URL="${GEOGRID_TEST_POSTGRES_URL:-postgresql+psycopg://geogrid:geogrid@127.0.0.1:5432/postgres}"

reachable() {
    "$(dirname "$0")/../.venv/bin/python" - "$URL" <<'PY' >/dev/null 2>&1
import sys, sqlalchemy as sa
sa.create_engine(sys.argv[1]).connect().close()
PY
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! reachable; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    if ! pg_lsclusters -h | grep -q "^$version main"; then
        as_root pg_createcluster "$version" main >&2
    fi
    as_root pg_ctlcluster "$version" main start >&2 || true
    for _ in $(seq 30); do
        pg_isready -q -h 127.0.0.1 && break
        sleep 1
    done
    as_postgres psql -q >&2 <<'SQL'
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'geogrid') THEN
        CREATE ROLE geogrid LOGIN SUPERUSER PASSWORD 'geogrid';
    END IF;
END $$;
SQL
    reachable || { echo "PostGIS still not reachable at $URL" >&2; exit 1; }
fi
echo "$URL"
