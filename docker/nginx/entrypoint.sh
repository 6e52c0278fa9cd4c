#!/bin/sh
# Start the video access service of one zone: render docker/nginx/nginx.conf.template from
# the environment (the same template `manage.py render_nginx_conf` fills), then run nginx.
#
#   ZONE, PATH_DST, VIDEO_EXTENSION (the zone's recording type, e.g. mp4: nothing else is
#   served) and LINK_SECRET (or LINK_SECRET_FILE, a Swarm secret) are required.
#   NGINX_USER ("user" or "user group") sets the workers' user when nginx starts as root;
#   unset (the stack runs the container as the storage user) there is no user directive.
#   entrypoint.sh --render-only   prints the finished config instead of starting nginx.
set -eu

TEMPLATE=${TEMPLATE:-/etc/opvideo/nginx.conf.template}
CONF=${NGINX_CONF:-/tmp/opvideo-nginx.conf}

if [ -n "${LINK_SECRET_FILE:-}" ]; then
  LINK_SECRET=$(cat "$LINK_SECRET_FILE")
fi
: "${ZONE:?ZONE is not set}"
: "${PATH_DST:?PATH_DST is not set}"
: "${LINK_SECRET:?LINK_SECRET (or LINK_SECRET_FILE) is not set}"
: "${VIDEO_EXTENSION:?VIDEO_EXTENSION is not set}"
# It goes into a location regex: letters and digits only, as the zone form allows.
case "$VIDEO_EXTENSION" in
  *[!A-Za-z0-9]*|??????*) echo "VIDEO_EXTENSION must be 1-5 letters or digits, without the dot" >&2; exit 2 ;;
esac
# The secret goes inside a quoted nginx string: only characters that need no escaping.
case "$LINK_SECRET" in
  *[!A-Za-z0-9_-]*) echo "LINK_SECRET has characters other than A-Z a-z 0-9 _ -" >&2; exit 2 ;;
esac
if [ "${#LINK_SECRET}" -lt 16 ]; then
  echo "LINK_SECRET is shorter than 16 characters" >&2; exit 2
fi

# It goes into the user directive unquoted: one or two POSIX names.
if [ -n "${NGINX_USER:-}" ]; then
  case "$NGINX_USER" in
    *"
"*) echo "NGINX_USER must be one line" >&2; exit 2 ;;
  esac
  if ! printf '%s\n' "$NGINX_USER" | grep -Eqx '[a-z_][a-z0-9_-]{0,31}( [a-z_][a-z0-9_-]{0,31})?'; then
    echo "NGINX_USER must be a user name, or a user and a group name" >&2; exit 2
  fi
  USER_DIRECTIVE="user $NGINX_USER;"
else
  USER_DIRECTIVE="# no user directive: nginx runs as the container's user"
fi

export ZONE PATH_DST LINK_SECRET VIDEO_EXTENSION USER_DIRECTIVE
export LISTEN_PORT="${LISTEN_PORT:-8080}"
export SERVER_NAME="${SERVER_NAME:-_}"
export ACCESS_LOG="${ACCESS_LOG:-/dev/stdout}"
export ERROR_LOG="${ERROR_LOG:-stderr}"
export PID_FILE="${PID_FILE:-/tmp/opvideo-nginx.pid}"
export TEMP_DIR="${TEMP_DIR:-/tmp/opvideo-nginx}"
export MIME_TYPES="${MIME_TYPES:-/etc/nginx/mime.types}"

# Substitute exactly the placeholders the template has, so nginx's own $variables survive.
# shellcheck disable=SC2016  # the pattern matches a literal ${NAME}, nothing to expand
placeholders=$(grep -o '\${[A-Z][A-Z0-9_]*}' "$TEMPLATE" | sort -u | tr '\n' ' ')
for p in $placeholders; do
  name=${p#??}; name=${name%?}
  eval "isset=\${$name+x}"
  [ -n "$isset" ] || { echo "template placeholder $name has no value" >&2; exit 2; }
done
mkdir -p "$TEMP_DIR"
umask 077  # the rendered file holds the link secret
envsubst "$placeholders" < "$TEMPLATE" > "$CONF"

if [ "${1:-}" = "--render-only" ]; then
  cat "$CONF"
  exit 0
fi
nginx -t -q -c "$CONF"
exec nginx -c "$CONF" -g 'daemon off;'
