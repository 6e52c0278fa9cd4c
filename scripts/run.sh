#!/usr/bin/env bash
# `make run`: the whole system on an embedded default (SQLite, no nginx, no directory) with a
# demo zone and sample recordings, served on http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh run
py=.venv/bin/python

# Development secrets are generated once per checkout into var/run.env (git-ignored),
# so a restart keeps the same login and the encrypted demo key stays readable.
var=${OPVIDEO_VAR_DIR:-$PWD/var}
mkdir -p "$var"
if [ ! -f "$var/run.env" ]; then
  $py - "$var/run.env" <<'PY'
import secrets, sys
from cryptography.fernet import Fernet
with open(sys.argv[1], "w") as fh:
    fh.write(f"DJANGO_SECRET_KEY={secrets.token_urlsafe(48)}\n")
    fh.write(f"FIELD_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n")
    fh.write(f"OPVIDEO_DEMO_PASSWORD={secrets.token_urlsafe(12)}\n")
PY
  chmod 600 "$var/run.env"
fi
set -a
. "$var/run.env"
DATABASE_URL="sqlite:///$var/opvideo.sqlite3"
DJANGO_DEBUG=true
DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
DJANGO_SECURE_SSL_REDIRECT=false
DJANGO_SECURE_COOKIES=false
DJANGO_HSTS_SECONDS=0
OPVIDEO_EMBEDDED_MEDIA=true
set +a

PYTHON=$py scripts/compile-messages.sh
$py manage.py migrate --no-input -v0
addr=${OPVIDEO_RUN_ADDR:-127.0.0.1:8000}
$py manage.py load_demo --root "$var/demo" --addr "$addr"
[ "${OPVIDEO_RUN_PREPARE_ONLY:-}" = 1 ] && exit 0
exec $py manage.py runserver "$addr"
