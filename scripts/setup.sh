#!/usr/bin/env bash
# Idempotent setup: Debian packages (only the missing ones), .venv from a Python whose sqlite3 can
# load extensions, pinned requirements (only when requirements.txt changed), compiled translations
# (locale/*/LC_MESSAGES/django.po -> .mo), migrations.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libsqlite3-mod-spatialite gdal-bin libgdal-dev libproj-dev binutils postgresql-15
  postgresql-15-postgis-3 redis-server fonts-wqy-zenhei poppler-utils python3-venv chromium chromium-driver gettext)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

can_load_ext() { "$1" -c "import sqlite3; sqlite3.connect(':memory:').enable_load_extension(True)" 2>/dev/null; }
if [ ! -x .venv/bin/python ] || ! can_load_ext .venv/bin/python; then
  PY=""
  for candidate in ${PYTHON:-} /usr/bin/python3.11 /usr/bin/python3 python3.11 python3; do
    if command -v "$candidate" >/dev/null && can_load_ext "$candidate" \
       && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY="$candidate"; break
    fi
  done
  if [ -z "$PY" ]; then
    echo "setup: no Python 3.11 whose sqlite3 can load extensions (SpatiaLite); install Debian's python3 (apt-get install python3 python3-venv) or set PYTHON=/path/to/python3.11" >&2
    exit 1
  fi
  echo "setup: building .venv from $PY"
  rm -rf .venv
  "$PY" -m venv .venv
fi

stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing requirements"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  echo "$want" > "$stamp"
fi
mkdir -p var
.venv/bin/python manage.py compilemessages --ignore ".venv" --ignore "var" -v 0
# Migrations run as the owner; on PostgreSQL with DATABASE_OWNER_URL the application's role (DATABASE_URL,
# owning nothing) is created and granted its privileges (kernel/pgroles.py).
if [ -n "${DATABASE_OWNER_URL:-}" ]; then GWC_DB_AS_OWNER=1 .venv/bin/python manage.py db_roles; fi
GWC_DB_AS_OWNER=1 .venv/bin/python manage.py migrate --no-input -v 0
echo "setup: ready"
