#!/usr/bin/env bash
# Make sure MariaDB and Redis answer; start them if they are down.
# (The machines this project runs its tests on start both before a session; CI and a
# fresh laptop may not have them running.) When TEST_DATABASE_URL / TEST_CELERY_BROKER_URL
# name another host (GitLab CI's `mariadb` and `redis` services), wait for that host
# instead: there is nothing to start locally.
set -euo pipefail

url_host() {  # url_host URL -> host name (127.0.0.1 when the URL names none)
  python3 -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).hostname or "127.0.0.1")' "$1"
}
url_port() {  # url_port URL DEFAULT
  python3 -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).port or sys.argv[2])' "$1" "$2"
}
is_local() { case "$1" in 127.*|localhost|::1) return 0 ;; *) return 1 ;; esac; }

db_url=${TEST_DATABASE_URL:-mysql://root@127.0.0.1:3306/opvideo}
broker_url=${TEST_CELERY_BROKER_URL:-redis://127.0.0.1:6379/15}
db_host=$(url_host "$db_url"); db_port=$(url_port "$db_url" 3306)
redis_host=$(url_host "$broker_url"); redis_port=$(url_port "$broker_url" 6379)

wait_for() {  # wait_for NAME COMMAND...
  local name=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "$name did not come up" >&2
  return 1
}

if ! is_local "$db_host"; then
  wait_for "MariaDB at $db_host" mysqladmin -h "$db_host" -P "$db_port" -u root ping
elif ! mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
  echo "Starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for MariaDB mysqladmin -h 127.0.0.1 -u root ping
fi

if ! is_local "$redis_host"; then
  wait_for "Redis at $redis_host" redis-cli -h "$redis_host" -p "$redis_port" ping
elif ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping
fi
