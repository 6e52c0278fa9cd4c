"""What ``status`` and ``check`` report: read-only looks at the client's world, each step's
failure turned into a line an admin can act on rather than a traceback.

``status`` answers "what is this workstation doing": its zone and the zone's settings as the
client reads them, what is waiting, which names it cannot read, the last success and error.
``check`` answers "can it work": configuration, database, zone, the zone's client key
(``OPVIDEO_ZONE_KEY``: missing, malformed, not this zone's, this login not the zone's, the
zone not sealed yet, each with the admin command that puts it right), the ssh key, PATH_SRC,
the tools, the storage server's pinned host key, and an ssh login to the storage server with
the zone's key (only to a server showing the pinned key).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, connections
from django.utils import timezone

from zones import ssh_keys
from zones.detection import Resolver
from zones.models import Zone

from .conf import AgentConfig
from .selectors import (
    ZoneKeyError,
    agent_state_read,
    recordings_scan,
    zone_lookup,
    zone_ssh_key,
)
from .transfer import StorageLink, pinned_host_keys

OK, WARN, FAIL = "OK", "WARN", "FAIL"


@dataclass
class StatusReport:
    lines: list[tuple[str, str, list[str]]] = field(default_factory=list)

    def add(self, label: str, value: str, details: list[str] | None = None) -> None:
        self.lines.append((label, value, details or []))

    def text(self) -> str:
        width = max((len(label) for label, _value, _details in self.lines), default=0) + 1
        out = []
        for label, value, details in self.lines:
            out.append(f"{label + ':':<{width}} {value}")
            out += [f"  {detail}" for detail in details]
        return "\n".join(out)


@dataclass
class CheckReport:
    results: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, verdict: str, what: str, detail: str) -> None:
        self.results.append((verdict, what, detail))

    @property
    def ok(self) -> bool:
        return all(verdict != FAIL for verdict, _what, _detail in self.results)

    def text(self) -> str:
        width = max((len(what) for _v, what, _d in self.results), default=0)
        return "\n".join(
            f"{verdict:<4} {what:<{width}}  {detail}" for verdict, what, detail in self.results
        )


def _zone_source(config: AgentConfig) -> str:
    return "OPVIDEO_ZONE in db.conf" if config.zone_override else f"found from {config.zone_host}"


def _zone_settings(zone: Zone) -> str:
    pattern = "custom" if zone.file_name_pattern else "standard"
    return (
        f"{zone.ssh_user}@{zone.server}:{zone.ssh_port} into {zone.path_dst}, from "
        f"{zone.path_src} *.{zone.file_extension}, {zone.speed_kbps} KB/s, kept "
        f"{zone.retention_days} days, {pattern} file name pattern, "
        f"{'enabled' if zone.enabled else 'DISABLED'}"
    )


def agent_status(*, config: AgentConfig, resolver: Resolver | None = None) -> StatusReport:
    report = StatusReport()
    report.add("workstation", config.workstation)
    found = zone_lookup(host=config.zone_host, override=config.zone_override, resolver=resolver)
    zone = found.zone
    if found.missing == "undetected":
        report.add("zone", f"not found: {found.error}")
    else:
        connections.close_all()  # the lookup read the row
        report.add("zone", f"{found.name} ({_zone_source(config)})")
        if zone is not None:
            report.add("zone settings", _zone_settings(zone))
        elif found.missing == "no_row":
            report.add("zone settings", f"CONFIG has no row for zone {found.name}")
        else:
            report.add("zone settings", f"database unreachable: {found.error}")
    if zone is not None:
        try:
            scan = recordings_scan(
                directory=Path(zone.path_src),
                extension=zone.file_extension,
                pattern=zone.file_name_pattern,
                workstation=config.workstation,
                settle_seconds=config.settle_seconds,
                now=time.time(),
                limit=1,  # only the oldest is named; the rest are counted, not kept
            )
        except (OSError, ValidationError) as exc:
            report.add("waiting", f"cannot look: {exc}")
        else:
            oldest = []
            if scan.ready:
                first = scan.ready[0]
                modified = datetime.fromtimestamp(first.mtime_ns / 1e9, tz=UTC)
                oldest = [f"oldest finished: {first.name}, modified {_local(modified.isoformat())}"]
            report.add(
                "waiting",
                f"{scan.ready_total + len(scan.settling)} ({scan.ready_total} finished, "
                f"{len(scan.settling)} still being written)",
                oldest,
            )
            report.add(
                "left in place",
                str(len(scan.unparseable)),
                [f"{item.name}: {item.reason}" for item in scan.unparseable],
            )
    state = agent_state_read(path=config.state_file)
    report.add(
        "kept: other content on storage",
        str(state.get("collision_count", 0)),
        list(state.get("collisions", [])),
    )
    report.add("last cycle", _local(state.get("last_cycle")) or "never")
    report.add("last success", _local(state.get("last_success")) or "never")
    if state.get("last_error"):
        report.add(
            "last error", _local(state.get("last_error_at")), state["last_error"].splitlines()
        )
    else:
        report.add("last error", "none")
    return report


def _local(stamp: str | None) -> str:
    """An ISO time from the state file, shown in the call centre's time zone."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")


def agent_check(*, config: AgentConfig, resolver: Resolver | None = None) -> CheckReport:
    report = CheckReport()
    _check_config_file(report)
    report.add(OK, "workstation", config.workstation)
    db = settings.DATABASES["default"]
    where = f"{db.get('USER')}@{db.get('HOST')}:{db.get('PORT') or 3306}/{db.get('NAME')}"
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report.add(OK, "database", f"reachable as {where}")
    except DatabaseError as exc:
        report.add(FAIL, "database", f"{where}: {exc}")
        connections.close_all()
        return report
    try:
        found = zone_lookup(host=config.zone_host, override=config.zone_override, resolver=resolver)
        if found.missing == "undetected":
            report.add(FAIL, "zone", str(found.error))
            return report
        name = found.name
        report.add(OK, "zone", f"{name} ({_zone_source(config)})")
        if found.missing == "no_row":
            report.add(FAIL, "zone row", f"CONFIG has no row for zone {name}")
            return report
        if found.missing == "database":
            raise found.error  # as before the lookup: a check that cannot read CONFIG fails
        zone = found.zone
        report.add(OK if zone.enabled else FAIL, "zone row", _zone_settings(zone))
        private_key = zone_ssh_key(zone=zone)
        report.add(OK, "zone key", f"OPVIDEO_ZONE_KEY opens zone {name}'s ssh key")
        key = ssh_keys.key_load(private_key=private_key)
        report.add(OK, "ssh key", f"{key.algorithm} {key.fingerprint}")
    except ZoneKeyError as exc:
        report.add(FAIL, "zone key", str(exc))
        return report
    except ValidationError as exc:
        report.add(
            FAIL,
            "ssh key",
            f"zone {name}'s ssh key is not usable ({' '.join(exc.messages)}); generate or "
            "paste a new one in the admin",
        )
        return report
    finally:
        connections.close_all()
    _check_path_src(report, Path(zone.path_src))
    _check_tools(report)
    if not _check_host_keys(report, zone):
        return report
    with StorageLink(zone=zone, private_key=private_key, config=config, for_check=True) as link:
        accepted, detail = link.probe()
    if accepted and "does not look confined" in detail:
        report.add(WARN, "storage", detail)
    else:
        report.add(OK if accepted else FAIL, "storage", detail)
    return report


def _check_config_file(report: CheckReport) -> None:
    path = Path(settings.CONFIG_FILE)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        report.add(
            WARN,
            "configuration",
            f"{path} is readable by others (mode {mode:04o}); it holds the database password "
            "and the zone's key: chmod 600",
        )
    else:
        report.add(OK, "configuration", f"{path} (mode {mode:04o})")


def _check_host_keys(report: CheckReport, zone: Zone) -> bool:
    """Whether the storage server can be recognised; if not, no connection is tried."""
    pinned, problem = pinned_host_keys(zone=zone)
    if problem:
        report.add(FAIL, "storage host key", problem)
        return False
    report.add(OK, "storage host key", ", ".join(key.describe() for key in pinned))
    return True


def _check_path_src(report: CheckReport, path: Path) -> None:
    if not path.is_dir():
        report.add(FAIL, "PATH_SRC", f"{path} does not exist or is not a directory")
        return
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        report.add(FAIL, "PATH_SRC", f"{path}: the client may not read and delete files there")
        return
    report.add(OK, "PATH_SRC", f"{path}")


def _check_tools(report: CheckReport) -> None:
    missing = [tool for tool in ("rsync", "ssh") if shutil.which(tool) is None]
    if missing:
        report.add(FAIL, "tools", f"not installed: {', '.join(missing)}")
        return
    version = subprocess.run(
        ["rsync", "--version"],  # noqa: S607 - the system's rsync is the one the client uses
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    report.add(OK, "tools", " ".join((version[0] if version else "rsync").split()) + ", ssh")
