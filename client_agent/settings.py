"""Django settings of the workstation client (``python -m client_agent``).

Only what the client needs: the ``zones`` and ``storage`` models it reads and writes, its own
heartbeat model, one database connection that is opened for each step and closed after it.
No admin, no sessions, no web. Every value comes from ``/etc/opvideo/db.conf`` (see
``client_agent.conf``; ``client_agent/deploy/db.conf.example`` documents each name) through
one django-environ ``env`` reading that file; only the zone's database login and key
(``OPVIDEO_ZONE_KEY``) differ between sites.
"""

import secrets

import environ
from django.core.exceptions import ImproperlyConfigured

from client_agent.conf import config_file_path, config_file_read

CONFIG_FILE = config_file_path()

env = environ.Env()
# The file, not os.environ: see client_agent.conf for why.
env.ENVIRON = config_file_read(path=CONFIG_FILE)

# The web's FIELD_ENCRYPTION_KEYS open every zone's secrets; a workstation that held them
# would hold every zone's ssh key and link secret. A db.conf that still names them (the
# client before per-zone keys needed them) is refused, so the line does not linger.
if "FIELD_ENCRYPTION_KEYS" in env.ENVIRON:
    raise ImproperlyConfigured(
        f"{CONFIG_FILE} holds FIELD_ENCRYPTION_KEYS: remove that line. Workstations must never "
        "hold the web's keys; the client needs only its zone's key, OPVIDEO_ZONE_KEY "
        "(manage.py zone_client_key --zone <zone>)"
    )

# Nothing in the client signs anything; Django only insists that the setting exists.
SECRET_KEY = secrets.token_urlsafe(50)
DEBUG = False
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = ["zones", "storage", "client_agent"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Database: the client's own least-privilege user (README, "Workstation client") --------
if not env.str("DATABASE_URL", default=""):
    raise ImproperlyConfigured(f"DATABASE_URL is not set in {CONFIG_FILE}")
DATABASES = {"default": env.db("DATABASE_URL")}
_password = env.str("DATABASE_PASSWORD", default="")
if _password:
    DATABASES["default"]["PASSWORD"] = _password
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "charset": "utf8mb4",
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES', time_zone='+00:00'",
            # A database that does not answer must fail the step, not hang the client.
            "connect_timeout": env.int("DATABASE_CONNECT_TIMEOUT", default=10),
            "read_timeout": env.int("DATABASE_IO_TIMEOUT", default=60),
            "write_timeout": env.int("DATABASE_IO_TIMEOUT", default=60),
            # Django wants autocommit on and sets it after connecting; mysqlclient would
            # first turn it off (PEP 249). Asking for it at connect time saves both round
            # trips on every connection, and the client opens one per registered batch.
            "autocommit": True,
        }
    )
# Thousands of workstations: never keep a connection open between steps.
DATABASES["default"]["CONN_MAX_AGE"] = 0

# --- Keys: this zone's only ----------------------------------------------------------------
# Nothing the client reads is encrypted under them: an attempt fails at once, saying so.
FIELD_ENCRYPTION_KEYS: list[str] = []
# The zone's client key: it opens this zone's ssh key (read sealed, through the view
# CLIENT_ZONE_KEY) and nothing else.
OPVIDEO_ZONE_KEY = env.str("OPVIDEO_ZONE_KEY", default="")

# Recording dates are the files' modification dates in this time zone (the web's TIME_ZONE).
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Moscow")
USE_TZ = True
USE_I18N = False
LANGUAGE_CODE = "en-us"

# Logging is set up by client_agent.logs from the two log file settings below.
LOGGING_CONFIG = None
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")

# --- The client -----------------------------------------------------------------------------
# Zone detection: the zone is the label after this host name in its DNS name
# (docker1.<zone>.<domain>), unless OPVIDEO_ZONE names it.
OPVIDEO_ZONE = env.str("OPVIDEO_ZONE", default="")
OPVIDEO_ZONE_HOST = env.str("OPVIDEO_ZONE_HOST", default="docker1")
# Name under which this workstation stores and registers recordings (default: short host name).
OPVIDEO_WORKSTATION = env.str("OPVIDEO_WORKSTATION", default="")
# Seconds between cycles, and the first wait before retrying a failed cycle (doubling up to
# the interval).
OPVIDEO_INTERVAL = env.float("OPVIDEO_INTERVAL", default=3600)
OPVIDEO_FAILURE_RETRY = env.float("OPVIDEO_FAILURE_RETRY", default=300)
# A recording is finished when unmodified for this many seconds and not growing between two
# looks this many seconds apart.
OPVIDEO_SETTLE_SECONDS = env.float("OPVIDEO_SETTLE_SECONDS", default=120)
OPVIDEO_RECHECK_SECONDS = env.float("OPVIDEO_RECHECK_SECONDS", default=5)
# Files sent, registered and cleaned up together.
OPVIDEO_BATCH_FILES = env.int("OPVIDEO_BATCH_FILES", default=200)
# Attempts of a transfer that failed for a passing reason, and the first pause (doubling).
OPVIDEO_RETRY_ATTEMPTS = env.int("OPVIDEO_RETRY_ATTEMPTS", default=3)
OPVIDEO_RETRY_DELAY = env.float("OPVIDEO_RETRY_DELAY", default=30)
# ssh connect timeout, and rsync's I/O timeout (no data for this long ends the transfer).
OPVIDEO_SSH_CONNECT_TIMEOUT = env.int("OPVIDEO_SSH_CONNECT_TIMEOUT", default=20)
OPVIDEO_RSYNC_TIMEOUT = env.int("OPVIDEO_RSYNC_TIMEOUT", default=600)
# Where the client keeps its lock and state; where the key (and the known_hosts written from
# CONFIG) live during a cycle.
OPVIDEO_STATE_DIR = env.str("OPVIDEO_STATE_DIR", default="/var/lib/opvideo")
OPVIDEO_KEY_DIR = env.str("OPVIDEO_KEY_DIR", default="/run/opvideo")
# ssh/rsync output, and everything else.
OPVIDEO_RSYNC_LOG = env.str("OPVIDEO_RSYNC_LOG", default="/var/log/op_rsync.log")
OPVIDEO_ERROR_LOG = env.str("OPVIDEO_ERROR_LOG", default="/var/log/videos_error.log")
