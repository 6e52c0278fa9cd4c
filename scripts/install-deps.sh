#!/usr/bin/env bash
# Install what the project needs on a Debian machine, skipping what is already there.
#   install-deps.sh run   - what `make run` needs
#   install-deps.sh test  - what `make test` needs (the real services the tests start)
#   install-deps.sh bench - what `make bench` needs (test's, and wrk)
#   install-deps.sh lock  - what `make lock` needs (pip-tools in the virtualenv)
# Python packages come only from the hashed lock files (requirements*.txt, `make lock`):
# pip refuses any file whose hash is not in them.
set -euo pipefail
cd "$(dirname "$0")/.."

want=(python3-venv pkg-config gcc libmariadb-dev libldap2-dev libsasl2-dev gettext ffmpeg)
if [ "${1:-run}" = test ] || [ "${1:-run}" = bench ]; then
  want+=(mariadb-server mariadb-client redis-server slapd ldap-utils nginx
         openssh-server openssh-client rsync chromium fonts-dejavu-core
         systemd logrotate util-linux
         prometheus)  # promtool: the alert rules are checked and unit-tested
fi

if [ "${1:-run}" = bench ]; then
  want+=(wrk)
fi

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  # slapd's and others' post-install scripts would ask questions without this.
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

venv=.venv
req=requirements-dev.txt
if [ "${1:-run}" = run ]; then
  req=requirements.txt
fi
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
stamp="$venv/.installed-$(basename "$req")"
if [ ! -f "$stamp" ] || [ "$req" -nt "$stamp" ] || [ requirements-pip.txt -nt "$stamp" ]; then
  # pip and setuptools first: the current pip, and the builder of the packages published
  # only as source (mysqlclient, python-ldap). Without build isolation those are built with
  # this checked setuptools instead of one pip would fetch, unchecked, for each build.
  "$venv/bin/pip" install -q --disable-pip-version-check --require-hashes -r requirements-pip.txt
  "$venv/bin/pip" install -q --disable-pip-version-check --require-hashes --no-build-isolation \
    -r "$req"
  touch "$stamp"
fi
