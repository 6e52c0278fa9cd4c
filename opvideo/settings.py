"""OPVideo settings.

Every setting comes from the environment through one django-environ ``env`` (see
``.env.example`` for the full list). Defaults are the production-safe choice; ``make run``
exports the few variables that turn on the embedded development mode.

A secret may also be given as ``<NAME>_FILE`` pointing at a file (Docker Swarm secrets are
mounted as files), so no secret has to appear in a process environment listing.
"""

from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.utils.translation import gettext_lazy as _

from opvideo.directory import DEFAULT_USER_FILTER, authentication_backends, directory_settings

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def env_secret(name: str, default: str | None = None) -> str | None:
    """Read a secret from ``NAME`` or, failing that, from the file named by ``NAME_FILE``."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return env.str(name, default=default)


DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env_secret("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) is not set; see .env.example"
    )

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# A refused form gets the site's own Russian 403 page, not Django's English one.
CSRF_FAILURE_VIEW = "search.errors.csrf_failure"

INSTALLED_APPS = [
    # django.contrib.admin with the project's site (Russian phrases, the index's order).
    "opvideo.admin_site.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # The two, renamed for the admin (opvideo.admin_site).
    "opvideo.admin_site.BeatConfig",
    "opvideo.admin_site.AxesConfig",
    "zones",
    "storage",
    "search",
    "client_agent",
    "legacy",
]

MIDDLEWARE = [
    # First: times everything below, and answers /metrics before the host and https checks.
    "opvideo.metrics.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "opvideo.middleware.DefaultLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opvideo.urls"
WSGI_APPLICATION = "opvideo.wsgi.application"

TEMPLATES = [
    # The operators' pages (search/jinja2/): Jinja2, for the speed of the search page.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "opvideo.jinja2.environment",
            "context_processors": [
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
    # The admin's pages, and anything else written in Django's template language.
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
            "libraries": {
                # The admin's phrases that agree with a model's name (templates/admin).
                "admin_grammar": "opvideo.admin_grammar",
                # The dashboard on the admin home (templates/admin/index.html).
                "opvideo_dashboard": "opvideo.dashboard.templatetags",
            },
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# MariaDB/MySQL in production and in the tests; SQLite only for ``make run``.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'opvideo.sqlite3'}"),
}
_db_password = env_secret("DATABASE_PASSWORD", default="")
if _db_password:
    DATABASES["default"]["PASSWORD"] = _db_password
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "charset": "utf8mb4",
            # Strict mode turns silent truncation into errors; UTC sessions make the
            # database-side defaults (CURRENT_TIMESTAMP) agree with Django's USE_TZ.
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES', time_zone='+00:00'",
        }
    )
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Field encryption -----------------------------------------------------------------------
# Fernet keys, comma-separated: the first encrypts, every one decrypts (key rotation).
FIELD_ENCRYPTION_KEYS = [
    k.strip() for k in (env_secret("FIELD_ENCRYPTION_KEYS", default="") or "").split(",") if k
]

# --- Authentication ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "search:login"
LOGIN_REDIRECT_URL = "search:index"
LOGOUT_REDIRECT_URL = "search:login"

# Active Directory through django-auth-ldap; with LDAP_SERVER_URI unset, local accounts only
# (``make run``). The local ModelBackend stays after LDAP as the break-glass way in: a local
# superuser with a password works even when the directory is down.
LDAP_SERVER_URI = env.list("LDAP_SERVER_URI", default=[])
AUTHENTICATION_BACKENDS = authentication_backends(with_directory=bool(LDAP_SERVER_URI))
if LDAP_SERVER_URI:
    globals().update(
        directory_settings(
            server_uris=LDAP_SERVER_URI,
            user_search_base=env.str("LDAP_USER_SEARCH_BASE"),
            bind_dn=env.str("LDAP_BIND_DN", default=""),
            bind_password=env_secret("LDAP_BIND_PASSWORD", default=""),
            user_filter=env.str("LDAP_USER_FILTER", default=DEFAULT_USER_FILTER),
            group_search_base=env.str("LDAP_GROUP_SEARCH_BASE", default=""),
            search_group=env.str("LDAP_SEARCH_GROUP", default=""),
            admin_group=env.str("LDAP_ADMIN_GROUP", default=""),
            start_tls=env.bool("LDAP_START_TLS", default=False),
            ca_cert_file=env.str("LDAP_CA_CERT_FILE", default=""),
            timeout=env.int("LDAP_TIMEOUT", default=5),
            cache_timeout=env.int("LDAP_CACHE_TIMEOUT", default=600),
        )
    )

# The hourly re-reading of every directory user (search.directory_sync): minutes between
# runs (beat's fixed entry, below), and the largest share of those users one run may
# deactivate; more means a misconfigured group or filter rather than people leaving, so the
# run changes nothing and fails (`manage.py sync_directory_users --force` overrides).
OPVIDEO_DIRECTORY_SYNC_MINUTES = env.int("OPVIDEO_DIRECTORY_SYNC_MINUTES", default=60)
OPVIDEO_DIRECTORY_SYNC_MAX_SHARE = env.float("OPVIDEO_DIRECTORY_SYNC_MAX_SHARE", default=0.2)

# Days an API token is valid from its issue; a new token is needed after that.
OPVIDEO_API_TOKEN_DAYS = env.int("OPVIDEO_API_TOKEN_DAYS", default=90)

# Members of this Django group (mirrored from the directory group of the same name) may place
# and lift legal holds; so may anyone given the storage.manage_legal_hold permission.
OPVIDEO_HOLD_GROUP = env.str("OPVIDEO_HOLD_GROUP", default="opvideo-qa")

# Lockout after repeated failures, by user name: a whole call-centre floor shares one
# address, so locking by address would lock everyone out.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks to lock by address too; that is exactly what a shared floor cannot have.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "search.views.lockout"
AXES_USERNAME_FORM_FIELD = "username"
# Number of reverse proxies in front of gunicorn whose X-Forwarded-For is trusted.
PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", default=0)
AXES_IPWARE_PROXY_COUNT = PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if PROXY_COUNT else ["REMOTE_ADDR"]
)

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="ru")
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Moscow")
# Russian month names in the genitive wherever a day is shown («30 ноября», not «30 Ноябрь»).
FORMAT_MODULE_PATH = ["opvideo.formats"]
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security ---------------------------------------------------------------------------------
# Secure by default; ``make run`` (plain http on 127.0.0.1) turns these off explicitly.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if env.bool("DJANGO_BEHIND_TLS_PROXY", default=True)
    else None
)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=True)
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_AGE", default=12 * 3600)
X_FRAME_OPTIONS = "DENY"

# --- Video links -----------------------------------------------------------------------------
# Seconds a signed video link stays valid; long enough to watch a long call with pauses.
VIDEO_LINK_TTL = env.int("VIDEO_LINK_TTL", default=4 * 3600)
# Serve recordings from Django itself for zones without a video server address. Only for
# ``make run``: production streams through each zone's nginx.
OPVIDEO_EMBEDDED_MEDIA = env.bool("OPVIDEO_EMBEDDED_MEDIA", default=False)

# --- Workstations ---------------------------------------------------------------------------
# Hours without a heartbeat, or without a successful cycle, after which the admin lists a
# workstation as needing attention (clients run hourly, so 3 means two missed cycles).
OPVIDEO_WORKSTATION_QUIET_HOURS = env.float("OPVIDEO_WORKSTATION_QUIET_HOURS", default=3)

# --- Retention -------------------------------------------------------------------------------
# Expired recordings are deleted and recorded this many at a time: one transaction, one
# UPDATE of DELETE_DATE and a bounded amount of memory per batch.
OPVIDEO_PURGE_BATCH_SIZE = env.int("OPVIDEO_PURGE_BATCH_SIZE", default=500)
# The zone (its name) this process's retention worker serves: set, a purge or integrity
# check of any other zone is refused and logged, whatever queue it came through. A worker
# on a storage host has only that zone's files mounted and must not act on another's rows.
# The container entrypoint sets it from OPVIDEO_ZONE; empty (``make run``, one host serving
# every zone) refuses nothing.
OPVIDEO_WORKER_ZONE = env.str("OPVIDEO_WORKER_ZONE", default="")

# --- Integrity (fixity) ----------------------------------------------------------------------
# The zone worker re-reads every stored recording against its hash at least once this many
# days (storage.integrity); rows checked more recently are not due.
OPVIDEO_FIXITY_DAYS = env.int("OPVIDEO_FIXITY_DAYS", default=30)
# How fast it may read, MB/s (10**6 bytes): a modest share of one disk, so ingest and
# playback keep priority. 0 reads as fast as the disk allows.
OPVIDEO_FIXITY_MB_PER_S = env.float("OPVIDEO_FIXITY_MB_PER_S", default=10.0)
# Seconds one run may read before it stops starting new files (a file in progress is
# finished), so the purge waiting on the same queue is not starved.
OPVIDEO_FIXITY_RUN_SECONDS = env.int("OPVIDEO_FIXITY_RUN_SECONDS", default=600)
# Minutes between runs; beat's entry per zone (zones.fixity_schedule) uses it.
OPVIDEO_FIXITY_INTERVAL_MINUTES = env.int("OPVIDEO_FIXITY_INTERVAL_MINUTES", default=15)

# --- Media read (call metadata and previews) ---------------------------------------------------
# The zone worker reads new recordings with ffprobe and makes their previews with ffmpeg
# (storage.media). Minutes between runs (beat's entry per zone, zones.media_schedule); at most
# this many recordings a run, and no new one started after this many seconds, so the purge
# and the integrity check on the same queue get their turn.
OPVIDEO_MEDIA_INTERVAL_MINUTES = env.int("OPVIDEO_MEDIA_INTERVAL_MINUTES", default=5)
OPVIDEO_MEDIA_RUN_LIMIT = env.int("OPVIDEO_MEDIA_RUN_LIMIT", default=200)
OPVIDEO_MEDIA_RUN_SECONDS = env.int("OPVIDEO_MEDIA_RUN_SECONDS", default=240)

# The storage forecast (storage.capacity): the worker's snapshot of PATH_DST every this many
# minutes; the rates are the mean of this many complete days; below this many days to a full
# disk (or when the zone's retention does not fit) every admin page warns.
OPVIDEO_CAPACITY_INTERVAL_MINUTES = env.int("OPVIDEO_CAPACITY_INTERVAL_MINUTES", default=60)
OPVIDEO_CAPACITY_WINDOW_DAYS = env.int("OPVIDEO_CAPACITY_WINDOW_DAYS", default=14)
OPVIDEO_CAPACITY_WARN_DAYS = env.float("OPVIDEO_CAPACITY_WARN_DAYS", default=14)

# --- Metrics (/metrics, opvideo.metrics) -------------------------------------------------------
# Prometheus scrapes /metrics with this bearer token (Authorization: Bearer ...), from the
# environment or OPVIDEO_METRICS_TOKEN_FILE like the other secrets, and/or only from these
# addresses (CIDRs, matched against the TCP peer, REMOTE_ADDR, never a forwarded header).
# Each one configured must pass; neither configured: /metrics does not exist (404).
OPVIDEO_METRICS_TOKEN = env_secret("OPVIDEO_METRICS_TOKEN", default="") or ""
OPVIDEO_METRICS_ALLOW = [
    # Normalised here, so a mistyped network stops the start instead of refusing scrapes.
    str(ip_network(net.strip(), strict=False))
    for net in env.list("OPVIDEO_METRICS_ALLOW", default=[])
    if net.strip()
]

# --- Celery -----------------------------------------------------------------------------------
# One beat (django-celery-beat's database scheduler, edited through the zone admin) and one
# worker per zone's storage server, consuming only the queue zone.<ZONE>.
CELERY_BROKER_URL = env_secret("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
# The stack's Redis requires a password (docker/redis/redis.sh), from REDIS_PASSWORD(_FILE).
# It goes to Celery apart from the URL (broker_password): Celery takes CELERY_BROKER_URL from
# the environment over this module, so a password put into the URL here would be lost.
CELERY_BROKER_PASSWORD = env_secret("REDIS_PASSWORD", default="") or None
if CELERY_BROKER_PASSWORD and urlsplit(CELERY_BROKER_URL).password is not None:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "CELERY_BROKER_URL has a password of its own and REDIS_PASSWORD is set too: "
        "give the password once, in REDIS_PASSWORD_FILE"
    )
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_EVENT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Nobody reads task results: a purge's summary is kept as a PurgeRun row.
CELERY_TASK_IGNORE_RESULT = True
# Acknowledge a purge only when it is over and take one message at a time: a worker killed
# mid-purge leaves its message to be delivered again, and the purge is idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A purge that runs past the soft limit stops cleanly (the next run continues); the hard
# limit kills it. Seconds.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=4 * 3600)
CELERY_TASK_TIME_LIMIT = env.int(
    "CELERY_TASK_TIME_LIMIT", default=CELERY_TASK_SOFT_TIME_LIMIT + 600
)
# Redis hands an unacknowledged message out again after this many seconds; it must exceed
# the hard time limit, or a long purge would be delivered a second time while it runs.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int(
        "CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 3600
    ),
}
# Fixed entries; django-celery-beat's scheduler writes them into its database at start (the
# zones' entries are written by zones.beat). The directory sync runs only with a directory,
# on the queue of the worker beside the web (it needs the web's database rights and the
# directory's bind account, which the zones' storage workers do not have).
CELERY_BEAT_SCHEDULE = (
    {
        "opvideo: directory sync": {
            "task": "search.directory_sync",
            "schedule": timedelta(minutes=OPVIDEO_DIRECTORY_SYNC_MINUTES),
            "options": {"queue": "directory"},
        }
    }
    if LDAP_SERVER_URI
    else {}
)
# A purge sent without a queue (a shell, a script) still goes to its zone's worker.
# The directory sync sent by hand (`.delay()`) goes to the directory worker like beat's.
CELERY_TASK_ROUTES = [
    "storage.tasks.task_route",
    {"search.directory_sync": {"queue": "directory"}},
]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Log through LOGGING below, like the rest of the project.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes greets every process at INFO and logs each failure there too; the
    # failures are kept in its tables, lockouts still come through as warnings.
    "loggers": {"axes": {"level": "WARNING"}},
}
