#!/bin/sh
# Entrypoint of the OPVideo application image: one image, the role is the command.
#
#   web              wait for the database, migrate (one replica at a time), run gunicorn
#   worker           wait for the database, run the Celery worker of zone $OPVIDEO_ZONE on
#                    queue zone.$OPVIDEO_ZONE (the retention service, opvideo_rm_<zone>)
#   beat             wait for the database, run the one Celery beat (DatabaseScheduler)
#   directory        wait for the database, run the Celery worker of queue `directory` (the
#                    hourly directory sync: beside the web, with its database user and the
#                    directory's bind password)
#   manage ARGS...   wait for the database, run `manage.py ARGS...` (one-off admin commands)
#   anything else    run as given
#
# Extra arguments after web/worker/beat go to gunicorn/celery. Only `web` migrates: the
# workers run on the storage hosts with a database user that may not change the schema.
# The same script runs outside Docker (the tests do): APP_DIR and PYTHON say where things are.
set -eu

APP_DIR=${APP_DIR:-/app}
PYTHON=${PYTHON:-python}
cd "$APP_DIR"

wait_for_database() {
  "$PYTHON" docker/app/dbtools.py wait --timeout "${DATABASE_WAIT_TIMEOUT:-60}"
}

# Workers, beat and one-off commands sign nothing (no sessions, no links), so they need not
# hold the web's secret key: a storage host that is broken into does not get it. Settings
# insist on some key, so a random one per start is given when none is configured.
ephemeral_secret_key() {
  if [ -z "${DJANGO_SECRET_KEY:-}" ] && [ -z "${DJANGO_SECRET_KEY_FILE:-}" ]; then
    DJANGO_SECRET_KEY=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(50))')
    export DJANGO_SECRET_KEY
  fi
}

role=${1:-web}
[ "$#" -gt 0 ] && shift

case "$role" in
  web)
    wait_for_database
    if [ "${OPVIDEO_MIGRATE:-true}" = "true" ]; then
      "$PYTHON" docker/app/dbtools.py migrate --lock-timeout "${MIGRATE_LOCK_TIMEOUT:-600}"
    fi
    # /metrics under several workers: each keeps its request figures in files in
    # PROMETHEUS_MULTIPROC_DIR and a scrape sums them (opvideo.metrics). Files of an earlier
    # start's processes would be summed in too: only this start's may be there.
    if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
      mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
      find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -type f -name '*.db' -delete
    fi
    # More gunicorn settings can be given in GUNICORN_CMD_ARGS (gunicorn reads it itself).
    # For the 2-core hosts: 3 processes (cores + 1) keep both cores busy while one waits for
    # MariaDB, and 2 threads each (gthread) overlap a request's database round trips with
    # another's Python work without the memory of more processes, and keep the proxy's
    # connections alive. bench/common.py's gunicorn() runs the same numbers: change both.
    exec gunicorn opvideo.wsgi:application \
      --config python:opvideo.metrics.gunicorn_hooks \
      --bind "${GUNICORN_BIND:-0.0.0.0:8000}" \
      --workers "${GUNICORN_WORKERS:-3}" \
      --threads "${GUNICORN_THREADS:-2}" \
      --timeout "${GUNICORN_TIMEOUT:-60}" \
      --worker-tmp-dir "${GUNICORN_WORKER_TMP_DIR:-/dev/shm}" \
      --access-logfile - \
      --error-logfile - \
      "$@"
    ;;
  worker)
    zone=${OPVIDEO_ZONE:-}
    if [ -z "$zone" ]; then
      echo "OPVIDEO_ZONE is not set: a worker serves exactly one zone (queue zone.<ZONE>)" >&2
      exit 2
    fi
    case "$zone" in
      *[!a-z0-9_-]*)
        echo "OPVIDEO_ZONE=$zone is not a zone name (a-z, 0-9, '-', '_')" >&2
        exit 2
        ;;
    esac
    # The tasks themselves refuse any other zone's purge or integrity check (storage.tasks),
    # whatever queue a message came through; from the one variable, so the two cannot differ.
    export OPVIDEO_WORKER_ZONE="$zone"
    ephemeral_secret_key
    wait_for_database
    # Node name <zone>@<host>: the healthcheck pings exactly this worker by it.
    exec celery -A opvideo worker \
      --queues "zone.$zone" \
      --hostname "$zone@%h" \
      --concurrency "${CELERY_CONCURRENCY:-1}" \
      --loglevel "${LOG_LEVEL:-INFO}" \
      "$@"
    ;;
  beat)
    ephemeral_secret_key
    wait_for_database
    # No pid file: /app is read-only, and Swarm (replicas: 1) is what keeps beat single.
    exec celery -A opvideo beat \
      --scheduler django_celery_beat.schedulers:DatabaseScheduler \
      --pidfile= \
      --loglevel "${LOG_LEVEL:-INFO}" \
      "$@"
    ;;
  directory)
    ephemeral_secret_key
    wait_for_database
    # Node name directory@<host>: the healthcheck pings it by OPVIDEO_WORKER_NODE.
    exec celery -A opvideo worker \
      --queues directory \
      --hostname "${OPVIDEO_WORKER_NODE:-directory}@%h" \
      --concurrency 1 \
      --loglevel "${LOG_LEVEL:-INFO}" \
      "$@"
    ;;
  manage)
    ephemeral_secret_key
    wait_for_database
    exec "$PYTHON" manage.py "$@"
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
