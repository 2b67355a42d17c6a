#!/usr/bin/env bash
# Run the test suite on a throwaway PostgreSQL 15 + PostGIS cluster in a temp dir on a free port;
# the cluster is always stopped and removed, even when the tests fail. Tests run with fsync off (fast);
# PG_DURABLE=1 (set by `make bench`) keeps PostgreSQL's durable defaults: fsync, synchronous_commit and
# full_page_writes on, so commit rates are the ones a production server would see.
set -euo pipefail
cd "$(dirname "$0")/.."
PGBIN=/usr/lib/postgresql/15/bin
tmp=$(mktemp -d /tmp/gwc-pg.XXXXXX)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$tmp"
cleanup() { run_pg "$PGBIN/pg_ctl -D $tmp/data -m immediate stop" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
run_pg "$PGBIN/initdb -D $tmp/data -U gwc --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
[ "${PG_DURABLE:-0}" = "1" ] && fast="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
run_pg "$PGBIN/pg_ctl -D $tmp/data -l $tmp/log -w -o '-p $port -k $tmp -c listen_addresses=127.0.0.1 $fast -c max_connections=200 ${PG_EXTRA_OPTIONS:-}' start" >/dev/null
# Two roles: gwc (superuser, owns the schema; migrations) and gwc_app (the application: owns nothing).
export DATABASE_OWNER_URL="postgis://gwc@127.0.0.1:$port/gwc"
export DATABASE_URL="postgis://gwc_app@127.0.0.1:$port/gwc"
run_pg "$PGBIN/../bin/psql -h 127.0.0.1 -p $port -U gwc -d postgres -qc 'CREATE DATABASE gwc'" 2>/dev/null \
  || psql -h 127.0.0.1 -p "$port" -U gwc -d postgres -qc 'CREATE DATABASE gwc'
psql -h 127.0.0.1 -p "$port" -U gwc -d gwc -qc 'CREATE EXTENSION IF NOT EXISTS postgis'
psql -h 127.0.0.1 -p "$port" -U gwc -d gwc -qc 'CREATE ROLE gwc_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE'
echo "test-postgis: PostgreSQL 15 + PostGIS on 127.0.0.1:$port"
if [ -n "${PG_COMMAND:-}" ]; then eval "$PG_COMMAND"; else .venv/bin/pytest "$@"; fi
