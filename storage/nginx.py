"""The nginx configuration of a zone's video access service.

One template, docker/nginx/nginx.conf.template, rendered here for hosts without Docker and by
the container's entrypoint (envsubst) otherwise. Only ``${UPPER_CASE}`` placeholders are
replaced, so nginx's own ``$variables`` pass through untouched.
"""

import re
import string
from pathlib import Path

from django.conf import settings

from zones.models import Zone

TEMPLATE = Path(settings.BASE_DIR) / "docker" / "nginx" / "nginx.conf.template"

# The secret is put inside a double-quoted nginx string; keep it to characters that need no
# escaping there (token_urlsafe output always fits).
SAFE_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,}\Z")
# The extension goes into a location regex; the zone form allows no more than this anyway.
SAFE_EXTENSION = re.compile(r"^[A-Za-z0-9]{1,5}\Z")
# The workers' user and group go into the `user` directive unquoted: POSIX names only.
SAFE_ACCOUNT = re.compile(r"^[a-z_][a-z0-9_-]{0,31}\Z")
# Debian's nginx package runs its workers as this user.
DEFAULT_WORKER_USER = "www-data"
# What the container's entrypoint puts instead of a user directive (docker/nginx).
NO_USER_DIRECTIVE = "# no user directive: nginx runs as the container's user"


class NginxConfigError(ValueError):
    pass


class _Placeholders(string.Template):
    # Only ${NAME} with an upper-case name is a placeholder.
    pattern = (
        r"\$(?:(?P<escaped>\$\$)|\{(?P<braced>[A-Z][A-Z0-9_]*)\}|(?P<named>(?!))|(?P<invalid>(?!)))"
    )


def template_placeholders() -> set[str]:
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", TEMPLATE.read_text()))


def nginx_conf_render(
    *,
    zone: Zone,
    listen_port: int | None = None,
    access_log: str = "/var/log/nginx/opvideo-access.log",
    error_log: str = "/var/log/nginx/opvideo-error.log",
    pid_file: str = "/run/opvideo-nginx.pid",
    temp_dir: str = "/var/lib/nginx",
    mime_types: str = "/etc/nginx/mime.types",
    worker_user: str | None = DEFAULT_WORKER_USER,
    worker_group: str | None = None,
) -> str:
    """The finished nginx.conf for ``zone``; refuses a zone it cannot serve safely.

    The workers run as ``worker_user`` with ``worker_group`` (default: the zone's storage
    user's own group, the one docker/storage/bootstrap.sh gives PATH_DST) as their group:
    PATH_DST is 750 and the recordings 640, readable by that group and by no one else.
    ``worker_user=None`` gives the container's file, without a user directive.
    """
    if worker_user is None:
        user_directive = NO_USER_DIRECTIVE
    else:
        worker_group = worker_group or zone.ssh_user
        for what, name in (("worker user", worker_user), ("worker group", worker_group)):
            if not SAFE_ACCOUNT.match(name or ""):
                raise NginxConfigError(f"the {what} {name!r} is not a POSIX user or group name")
        user_directive = f"user {worker_user} {worker_group};"
    secret = zone.link_secret
    if not secret:
        raise NginxConfigError(
            f"zone {zone.name} has no link secret: use the admin action 'regenerate link secret'"
        )
    if not SAFE_SECRET.match(secret):
        raise NginxConfigError(f"zone {zone.name}: the link secret has unexpected characters")
    if not SAFE_EXTENSION.match(zone.file_extension or ""):
        raise NginxConfigError(
            f"zone {zone.name}: the recording extension must be 1-5 letters or digits"
        )
    values = {
        "ZONE": zone.name,
        "LISTEN_PORT": str(listen_port or zone.public_port or 80),
        "SERVER_NAME": zone.public_address or "_",
        "PATH_DST": zone.path_dst,
        "VIDEO_EXTENSION": zone.file_extension,
        "LINK_SECRET": secret,
        "ACCESS_LOG": access_log,
        "ERROR_LOG": error_log,
        "PID_FILE": pid_file,
        "TEMP_DIR": temp_dir,
        "MIME_TYPES": mime_types,
        "USER_DIRECTIVE": user_directive,
    }
    missing = template_placeholders() - values.keys()
    if missing:
        raise NginxConfigError(f"template placeholders without a value: {sorted(missing)}")
    return _Placeholders(TEMPLATE.read_text()).substitute(values)
