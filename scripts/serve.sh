#!/usr/bin/env bash
# `make serve` (and `DJANGO_ENV=production make run`): the production WSGI server, gunicorn, in front of
# config.wsgi. Workers: WEB_CONCURRENCY (default 2 × cores + 1), sync workers, each keeping its database
# connection (CONN_MAX_AGE). Binds HOST:PORT (default 127.0.0.1:8000; put a reverse proxy in front).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
HOST=${HOST:-127.0.0.1}
WORKERS=${WEB_CONCURRENCY:-$(( $(nproc) * 2 + 1 ))}
exec .venv/bin/gunicorn config.wsgi:application --bind "$HOST:$PORT" --workers "$WORKERS" \
  --worker-class sync --timeout "${GUNICORN_TIMEOUT:-60}" --graceful-timeout 20 \
  --max-requests "${GUNICORN_MAX_REQUESTS:-5000}" --max-requests-jitter 500 \
  --access-logfile "${GUNICORN_ACCESS_LOG:--}" --log-level "${GUNICORN_LOG_LEVEL:-info}"
