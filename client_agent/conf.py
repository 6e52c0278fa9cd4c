"""The client's configuration: the one file a workstation has, and what is read from it.

A workstation is configured by ``/etc/opvideo/db.conf`` alone (the path can be changed with
the ``OPVIDEO_CLIENT_CONFIG`` environment variable): its zone's database login and client
key (the same on every workstation of a site, different between sites) and optional
tuning. The zone's storage server, sealed ssh key and directories come from the database.
The file is read directly rather than through the process environment, so the database
password and the zone's key never sit in the environment that the ssh and rsync children
inherit.

The format is ``NAME=value`` per line, ``#`` comments, optional ``export`` and quotes, so it
can also be sourced by a shell. ``client_agent/deploy/db.conf.example`` lists every name.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

DEFAULT_CONFIG_FILE = "/etc/opvideo/db.conf"
CONFIG_FILE_VARIABLE = "OPVIDEO_CLIENT_CONFIG"

_LINE = re.compile(r"^\s*(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*?)\s*$")
# One path segment on storage (PATH_DST/<workstation>/…): what a host name may contain.
_WORKSTATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}\Z")


def config_file_path() -> Path:
    return Path(os.environ.get(CONFIG_FILE_VARIABLE) or DEFAULT_CONFIG_FILE)


def config_file_read(*, path: Path) -> dict[str, str]:
    """``NAME=value`` pairs from ``path``; ImproperlyConfigured naming the line if one is bad."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ImproperlyConfigured(
            f"cannot read the client configuration {path}: {exc.strerror or exc} "
            f"(see client_agent/deploy/db.conf.example; {CONFIG_FILE_VARIABLE} names another "
            "file)"
        ) from exc
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ImproperlyConfigured(f"{path}, line {number}: expected NAME=value")
        value = match["value"]
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[match["name"]] = value
    return values


def workstation_name(configured: str = "") -> str:
    """The name this workstation registers under and stores its recordings under.

    The short host name by default: it is what admins know the machine by, and it is one
    path segment on the storage server.
    """
    name = configured.strip() or socket.gethostname().split(".")[0]
    if not _WORKSTATION.match(name):
        raise ImproperlyConfigured(
            f"workstation name {name!r} cannot be a directory name on storage; set "
            "OPVIDEO_WORKSTATION in db.conf (letters, digits, '.', '_', '-')"
        )
    return name


@dataclass(frozen=True)
class AgentConfig:
    """Everything a cycle needs besides the zone's row, fixed for the life of a process."""

    workstation: str
    zone_override: str = ""
    zone_host: str = "docker1"
    interval: float = 3600
    failure_retry: float = 300
    settle_seconds: float = 120
    recheck_seconds: float = 5
    batch_files: int = 200
    retry_attempts: int = 3
    retry_delay: float = 30
    connect_timeout: int = 20
    io_timeout: int = 600
    state_dir: Path = Path("/var/lib/opvideo")
    key_dir: Path = Path("/run/opvideo")
    rsync_log: Path = Path("/var/log/op_rsync.log")
    error_log: Path = Path("/var/log/videos_error.log")

    @property
    def lock_file(self) -> Path:
        return self.state_dir / "client.lock"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"


def agent_config() -> AgentConfig:
    """The AgentConfig of the Django settings in use (``client_agent.settings``)."""
    from django.conf import settings

    return AgentConfig(
        workstation=workstation_name(settings.OPVIDEO_WORKSTATION),
        zone_override=settings.OPVIDEO_ZONE,
        zone_host=settings.OPVIDEO_ZONE_HOST,
        interval=settings.OPVIDEO_INTERVAL,
        failure_retry=settings.OPVIDEO_FAILURE_RETRY,
        settle_seconds=settings.OPVIDEO_SETTLE_SECONDS,
        recheck_seconds=settings.OPVIDEO_RECHECK_SECONDS,
        batch_files=settings.OPVIDEO_BATCH_FILES,
        retry_attempts=settings.OPVIDEO_RETRY_ATTEMPTS,
        retry_delay=settings.OPVIDEO_RETRY_DELAY,
        connect_timeout=settings.OPVIDEO_SSH_CONNECT_TIMEOUT,
        io_timeout=settings.OPVIDEO_RSYNC_TIMEOUT,
        state_dir=Path(settings.OPVIDEO_STATE_DIR),
        key_dir=Path(settings.OPVIDEO_KEY_DIR),
        rsync_log=Path(settings.OPVIDEO_RSYNC_LOG),
        error_log=Path(settings.OPVIDEO_ERROR_LOG),
    )
