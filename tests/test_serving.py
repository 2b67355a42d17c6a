"""Production serving: gunicorn serves the app (`make serve`), PostgreSQL connections persist and run
without JIT."""
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def test_gunicorn_serves_healthz():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": "1", "GUNICORN_ACCESS_LOG": "/dev/null"}
    server = subprocess.Popen(["bash", "scripts/serve.sh"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        deadline, body = time.monotonic() + 60, None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    body = response.read().decode()
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                time.sleep(0.3)
        assert body is not None and '"database": "ok"' in body
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert b"Booting worker" in server.stderr.read()  # gunicorn, not the development server
    assert server.returncode in (0, -15)


@pytest.mark.django_db
def test_postgresql_connections_persist_without_jit():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL settings")
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
