#!/usr/bin/env bash
# `make run`: the web server and, beside it, one Celery worker with beat embedded, so window close,
# reminders, rent, disposal, loans and alerts run on a fresh machine. Without CELERY_BROKER_URL the
# broker is kombu's filesystem transport under var/celery/ (no server); with it, that broker (Redis).
# Stopping the server (Ctrl-C) stops the worker. With DJANGO_ENV=production the server is gunicorn
# (scripts/serve.sh), not Django's development server.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-8000}
HOST=${HOST:-127.0.0.1}  # HOST=0.0.0.0 to serve other machines (behind a proxy, DEBUG off)
if [ -z "${CELERY_BROKER_URL:-}" ]; then
  export CELERY_EMBEDDED=1
  mkdir -p var/celery/queue var/celery/control
fi
.venv/bin/celery -A config worker --beat --schedule var/celerybeat-schedule --concurrency 1 \
  --loglevel INFO --logfile var/celery.log &
worker=$!
trap 'kill "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT
echo "Celery worker + beat: pid $worker, log var/celery.log (broker: ${CELERY_BROKER_URL:-filesystem var/celery/})"
if [ "${DJANGO_ENV:-development}" = "production" ]; then
  PORT=$PORT HOST=$HOST bash scripts/serve.sh
else
  .venv/bin/python manage.py runserver "$HOST:$PORT"
fi
