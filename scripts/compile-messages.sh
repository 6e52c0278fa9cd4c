#!/usr/bin/env bash
# Compile the message catalogues (locale/<lang>/LC_MESSAGES/django.po -> django.mo) of a
# checkout. The .mo files are not in git (they are built from the .po), so a checkout without
# them shows the project's own strings in English beside Django's Russian ones. Django
# recompiles only a .po newer than its .mo, so this is cheap to run on every start.
# Used by `make run`, `make test` and the deployment without Docker (README); the Docker
# image runs the same command when it is built.
#   PYTHON   the virtualenv's python (default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."

py=${PYTHON:-.venv/bin/python}
if ! command -v msgfmt >/dev/null; then
  echo "compile-messages: msgfmt not found: install the Debian package gettext" >&2
  exit 1
fi
# The settings need a secret key to load; compiling signs nothing with it.
DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-compilemessages-only} \
  "$py" manage.py compilemessages --ignore=.venv -v0
