#!/usr/bin/env bash
# `make test`: install what is missing, start the services, lint, run the whole suite.
# Extra arguments go to pytest (make test ARGS="tests/zones -x").
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh test
scripts/services.sh

py=.venv/bin/python
# Throwaway values for this run only: the suite must never depend on a real secret.
export DJANGO_SECRET_KEY="test-$($py -c 'import secrets; print(secrets.token_urlsafe(48))')"
export FIELD_ENCRYPTION_KEYS="$($py -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
export DATABASE_URL="${TEST_DATABASE_URL:-mysql://root@127.0.0.1:3306/opvideo}"
export CELERY_BROKER_URL="${TEST_CELERY_BROKER_URL:-redis://127.0.0.1:6379/15}"
export DJANGO_SECURE_SSL_REDIRECT=false
export DJANGO_ALLOWED_HOSTS=localhost,127.0.0.1,testserver

# pytest-django creates test_<name> itself, but Django connects to <name> first.
$py - <<'PY'
import os, MySQLdb, environ
cfg = environ.Env.db_url_config(os.environ["DATABASE_URL"])
conn = MySQLdb.connect(host=cfg["HOST"] or "127.0.0.1", port=int(cfg["PORT"] or 3306),
                       user=cfg["USER"], password=cfg["PASSWORD"] or "")
conn.cursor().execute(
    f"CREATE DATABASE IF NOT EXISTS `{cfg['NAME']}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
PY

PYTHON=$py scripts/compile-messages.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/pytest "$@"
