#!/bin/sh
# Redis of the stack (Celery's broker), requiring the password of the Swarm secret
# redis_password. The stack mounts this script into the official redis image as a Swarm
# config (docker-compose.yml); the tests run it directly with a local redis-server.
#
#   redis.sh [OPTION...]   start redis-server; options go to it (--appendonly yes, --port N...)
#   redis.sh ping          the healthcheck: PONG with the password, exit 1 otherwise
#
# The password reaches no command line, no file and no log: redis-server reads its
# configuration from stdin, and that holds only the password's SHA-256 (an ACL `#<hash>`).
# The one user may run every command except those of the `dangerous` category (FLUSHALL,
# CONFIG, KEYS, SHUTDOWN, MONITOR, DEBUG, ACL...), none of which Celery needs: a storage server
# that is broken into can send and take messages, not wipe or reconfigure the broker.
set -eu

password_file=${REDIS_PASSWORD_FILE:-/run/secrets/redis_password}

password_read() {
  if [ ! -r "$password_file" ]; then
    echo "redis: cannot read the password file $password_file (REDIS_PASSWORD_FILE)" >&2
    exit 2
  fi
  # $(...) drops the trailing newline that `docker secret create NAME -` usually keeps.
  password=$(cat "$password_file")
  case "$password" in
    *[[:space:]]*)
      echo "redis: the password in $password_file contains white space" >&2
      exit 2
      ;;
  esac
  if [ "${#password}" -lt 16 ]; then
    echo "redis: the password in $password_file is shorter than 16 characters" >&2
    exit 2
  fi
}

if [ "${1:-}" = ping ]; then
  password_read
  # REDISCLI_AUTH, not -a: the environment of a process is readable only by its own user.
  reply=$(REDISCLI_AUTH=$password redis-cli -h 127.0.0.1 -p "${REDIS_PORT:-6379}" ping 2>&1 || true)
  echo "$reply"
  # redis-cli exits 0 on an error reply (NOAUTH) too: only PONG is healthy.
  [ "$reply" = PONG ]
  exit
fi

password_read
# printf is a shell builtin: the password is not on sha256sum's command line.
hash=$(printf '%s' "$password" | sha256sum | cut -d ' ' -f 1)
unset password
exec redis-server - "$@" <<EOF
user default on #$hash ~* &* +@all -@dangerous
EOF
