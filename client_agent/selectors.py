"""Reads of the workstation client: its zone's row, the recordings waiting in PATH_SRC, its
last state. (Each workstation's health, for the admin and the dashboard: client_agent.health.)"""

from __future__ import annotations

import heapq
import json
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from storage.hashing import fd_hash
from zones import client_keys
from zones.detection import Resolver, ZoneNotDetected, zone_detect
from zones.file_names import file_name_pattern_compile
from zones.models import Zone

from .models import ClientZoneKey
from .names import NameIds, NameReader, Unparseable, name_printable, recording_date_of

# The CONFIG columns the client reads; its database user may SELECT only these
# (client_agent.grants). No key column: not the ssh key (the client reads its own zone's
# sealed copy through the view CLIENT_ZONE_KEY), not the link secret, not the zone's client
# key; nor the video server's address.
CLIENT_ZONE_FIELDS = (
    "id",
    "name",
    "enabled",
    "server",
    "ssh_user",
    "ssh_port",
    "speed_kbps",
    "path_src",
    "path_dst",
    "file_extension",
    "file_name_pattern",
    "retention_days",
    "host_keys",
)

# A file modified this far in the future was not written by this clock: the clock was wrong
# then or is wrong now, and neither "finished" nor the recording date can be trusted.
FUTURE_TOLERANCE_SECONDS = 300

# Names a recorder or an editor uses while a file is not finished: never ours to send.
_TEMPORARY_PREFIXES = (".", "~", "#")
_TEMPORARY_SUFFIXES = ("~", ".tmp", ".part", ".partial")


def zone_for_client(*, name: str) -> Zone:
    """The zone's row with only the columns the client may read (Zone.DoesNotExist if none)."""
    return Zone.objects.only(*CLIENT_ZONE_FIELDS).get(name=name)


@dataclass(frozen=True)
class ZoneLookup:
    """This workstation's zone as far as it could be found: ``zone`` is None if not, and
    ``missing`` says why (``undetected``: no name; ``no_row``: no CONFIG row under ``name``;
    ``database``: CONFIG could not be read) and ``error`` the exception that said so."""

    name: str = ""
    zone: Zone | None = None
    missing: str = ""
    error: Exception | None = None


def zone_lookup(*, host: str, override: str, resolver: Resolver | None = None) -> ZoneLookup:
    """Which zone this workstation is in (OPVIDEO_ZONE, else found from ``host``) and its
    row as the client reads it; the one way the cycle and ``status`` find it. The caller
    closes the connection when done with the database."""
    try:
        name = zone_detect(host=host, override=override, resolver=resolver)
    except ZoneNotDetected as exc:
        return ZoneLookup(missing="undetected", error=exc)
    try:
        return ZoneLookup(name=name, zone=zone_for_client(name=name))
    except Zone.DoesNotExist:
        return ZoneLookup(name=name, missing="no_row")
    except DatabaseError as exc:
        return ZoneLookup(name=name, missing="database", error=exc)


class ZoneKeyError(Exception):
    """The zone's ssh key cannot be had; the message names the key and what to do.

    ``kind``: ``missing`` (no OPVIDEO_ZONE_KEY), ``malformed`` (not a key at all),
    ``unregistered`` (this database login is not the zone's), ``unsealed`` (the zone has no
    sealed key yet), ``mismatch`` (the key is not this zone's).
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


# ER_TABLEACCESS_DENIED_ERROR, ER_NO_SUCH_TABLE: the login predates per-zone logins, or the
# database predates the view.
_VIEW_DENIED, _VIEW_MISSING = 1142, 1146


def zone_ssh_key(*, zone: Zone, zone_key: str | None = None) -> str:
    """The zone's ssh private key: its copy sealed under the zone's client key, read through
    the view CLIENT_ZONE_KEY (only the zone this database login is listed for) and opened
    with ``zone_key`` (default: OPVIDEO_ZONE_KEY from db.conf).

    Raises ``ZoneKeyError`` saying which key is missing or wrong, and the admin command
    that puts it right; a database that cannot be reached raises DatabaseError.
    """
    if zone_key is None:
        zone_key = getattr(settings, "OPVIDEO_ZONE_KEY", "")
    zone_key = zone_key.strip()
    issue = f"manage.py zone_client_key --zone {zone.name}"
    grants = f"manage.py client_grants --zone {zone.name}"
    config_file = getattr(settings, "CONFIG_FILE", "db.conf")
    if not zone_key:
        raise ZoneKeyError(
            "missing",
            f"OPVIDEO_ZONE_KEY is not set in {config_file}: it must hold zone {zone.name}'s "
            f"client key, which an admin prints with `{issue}`",
        )
    try:
        client_keys.client_key_check(zone_key)
    except client_keys.NotAClientKey as exc:
        raise ZoneKeyError(
            "malformed",
            f"OPVIDEO_ZONE_KEY in {config_file} is {exc}; copy it again from `{issue}`",
        ) from exc
    user = settings.DATABASES["default"].get("USER") or "?"
    try:
        sealed = list(ClientZoneKey.objects.values_list("zone_id", "sealed_key"))
    except DatabaseError as exc:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        if code == _VIEW_MISSING:
            raise ZoneKeyError(
                "unregistered",
                "the database has no view CLIENT_ZONE_KEY: the web service's migrations have "
                'not been run yet (README, "Per-zone keys")',
            ) from exc
        if code == _VIEW_DENIED:
            raise ZoneKeyError(
                "unregistered",
                f"the database login {user} may not read CLIENT_ZONE_KEY, so it is not a "
                f"login of zone {zone.name}: a database admin runs the statements of "
                f"`{grants}` and db.conf uses that user",
            ) from exc
        raise
    own = [value for zone_id, value in sealed if zone_id == zone.pk]
    if not own:
        others = sorted(
            Zone.objects.filter(pk__in=[zone_id for zone_id, _v in sealed]).values_list(
                "name", flat=True
            )
        )
        where = f"zone {', '.join(others)}, not {zone.name}" if others else "no zone"
        raise ZoneKeyError(
            "unregistered",
            f"the database login {user} is registered for {where}: a database admin runs "
            f"the statements of `{grants}` and db.conf uses that user (or this workstation "
            "is not in the zone it thinks)",
        )
    if not own[0]:
        raise ZoneKeyError(
            "unsealed",
            f"zone {zone.name} has no sealed ssh key yet: an admin runs `{issue}` (it gives "
            "the zone its client key and seals the ssh key) and puts the printed key into "
            "OPVIDEO_ZONE_KEY",
        )
    try:
        return client_keys.unseal(client_key=zone_key, sealed=own[0])
    except client_keys.SealDoesNotOpen as exc:
        raise ZoneKeyError(
            "mismatch",
            f"OPVIDEO_ZONE_KEY in {config_file} does not fit zone {zone.name} (another "
            f"zone's key, or one replaced since): put the key `{issue}` prints into it",
        ) from exc


@dataclass(frozen=True, slots=True)
class LocalRecording:
    """A finished recording on the workstation, as it was when it was looked at."""

    name: str  # in PATH_SRC
    stored_name: str  # FILE_NAME on storage and in VIDEO: "<workstation>/<name>"
    size: int
    mtime_ns: int
    session_id: str
    project_id: str | None
    recording_date: date
    content_hash: str = ""  # SHA-256 of its bytes, once ``recording_hash`` has read them

    @property
    def look(self) -> tuple[int, int]:
        """What has to be unchanged for the file to still be the one that was sent."""
        return (self.size, self.mtime_ns)


# (modification time in ns, name): the order a backlog drains in, oldest first; the name
# breaks ties, so no two files share a key.
ScanKey = tuple[int, str]


@dataclass
class Scan:
    ready: list[LocalRecording] = field(default_factory=list)
    settling: list[str] = field(default_factory=list)
    unparseable: list[Unparseable] = field(default_factory=list)
    # Finished recordings found (after ``after``, and less the taken ones whose names turned
    # out unreadable), of which ``ready`` holds the oldest.
    ready_total: int = 0
    # The key of the newest recording this scan took (into ``ready`` or, with ``after``,
    # found unparseable): the next round's ``after``.
    last_key: ScanKey | None = None


def recordings_scan(
    *,
    directory: Path,
    extension: str,
    pattern: str,
    workstation: str,
    settle_seconds: float,
    now: float,
    limit: int | None = None,
    after: ScanKey | None = None,
) -> Scan:
    """The recordings in ``directory``: finished ones, ones still being written, and ones left
    in place (a name the pattern cannot read, a time in the future).

    With ``limit``, ``ready`` holds only the ``limit`` oldest finished recordings (and
    ``ready_total`` says how many there are): memory then stays bounded however large a
    backlog grows, and the caller takes the rest in further rounds.

    ``after`` is for those further rounds of one cycle: the previous round's ``last_key``.
    Only recordings whose key (modification time, name) comes after it are considered, so a
    round never takes again what an earlier one took (sent, or kept back for a reason that
    holds until the next cycle). A later round reads only the names it takes: the first
    round read every name and reported the unparseable ones, so here ``unparseable`` holds
    just those among the taken (and the files modified in the future), and ``ready_total``
    counts the finished files after ``after`` whatever their names. A file that turns up
    behind ``after`` meanwhile (renamed into place with an older time) waits for the next
    cycle, whose first round has no ``after``.

    Finished means not modified for ``settle_seconds``; ``recordings_recheck`` then makes
    sure they are not growing either. Only regular files directly in the directory with the
    zone's extension count; hidden and temporary files and symbolic links are not
    recordings (a link could point anywhere on the workstation). Oldest first, so a backlog
    drains in recording order.

    Raises OSError if the directory cannot be read, and ValidationError for a pattern the
    zone's row should not hold: both are the cycle's failure, not a file's.
    """
    file_name_pattern_compile(pattern)  # a bad pattern fails the scan, not each file
    suffix = "." + extension.lower()
    scan = Scan()
    name_ids = NameReader(pattern=pattern, workstation=workstation)

    # Per file only what decides whether it is a candidate: its name's shape and one stat.
    # The heap below holds small tuples; LocalRecording objects are made for the taken only.
    def finished() -> Iterator[tuple[int, str, int, NameIds | None]]:
        # Listed through a descriptor, each file's stat is an fstatat relative to it, not a
        # walk of the whole path again (a round stats every file of PATH_SRC).
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    name = entry.name
                    if name.startswith(_TEMPORARY_PREFIXES) or name.endswith(_TEMPORARY_SUFFIXES):
                        continue
                    if not name.lower().endswith(suffix):
                        continue
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    if not stat.S_ISREG(info.st_mode):
                        continue
                    if info.st_mtime > now + FUTURE_TOLERANCE_SECONDS:
                        scan.unparseable.append(
                            Unparseable(
                                name=name_printable(name),
                                reason="modified in the future; is this workstation's clock right?",
                            )
                        )
                        continue
                    if now - info.st_mtime < settle_seconds:
                        scan.settling.append(name)
                        continue
                    if after is not None:
                        if (info.st_mtime_ns, name) <= after:
                            continue
                        scan.ready_total += 1
                        yield info.st_mtime_ns, name, info.st_size, None
                        continue
                    ids = name_ids.read(name)
                    if isinstance(ids, Unparseable):
                        scan.unparseable.append(ids)
                        continue
                    scan.ready_total += 1
                    yield info.st_mtime_ns, name, info.st_size, ids
        finally:
            os.close(fd)

    # nsmallest keeps a heap of ``limit`` entries while it consumes the directory; names are
    # unique, so tuples never compare beyond (mtime, name).
    taken = heapq.nsmallest(limit, finished()) if limit else sorted(finished())
    if taken:
        scan.last_key = taken[-1][:2]
    # TIME_ZONE, looked up once rather than per file of a round.
    local_zone = timezone.get_default_timezone()
    for mtime_ns, name, size, ids in taken:
        if ids is None:
            ids = name_ids.read(name)
            if isinstance(ids, Unparseable):
                scan.unparseable.append(ids)
                scan.ready_total -= 1
                continue
        session_id, project_id, named_date = ids
        scan.ready.append(
            LocalRecording(
                name=name,
                stored_name=f"{workstation}/{name}",
                size=size,
                mtime_ns=mtime_ns,
                session_id=session_id,
                project_id=project_id,
                recording_date=recording_date_of(
                    name=name, mtime=mtime_ns / 1e9, named=named_date, tz=local_zone
                ),
            )
        )
    scan.settling.sort()
    scan.unparseable.sort(key=lambda u: u.name)
    return scan


def recordings_recheck(
    *, directory: Path, recordings: Iterable[LocalRecording]
) -> tuple[list[LocalRecording], list[str]]:
    """The second look: (still unchanged, changed or gone since the first look)."""
    same, changed = [], []
    # A string path per file rather than a Path: this looks at every file of a round.
    prefix = os.path.join(directory, "")
    for recording in recordings:
        if file_look(path=prefix + recording.name) == recording.look:
            same.append(recording)
        else:
            changed.append(recording.name)
    return same, changed


def recording_hash(*, directory: Path, recording: LocalRecording) -> str | None:
    """The SHA-256 of the recording's bytes, or None if it is no longer the file that was
    looked at (changed, replaced, gone) before or while it was read.

    Read through one descriptor opened without following a symbolic link, and checked
    against the look (size, modification time) on that descriptor before and after: the
    bytes hashed are those of the file that is sent, registered and removed.
    """
    try:
        fd = os.open(
            os.path.join(directory, recording.name), os.O_RDONLY | os.O_NOFOLLOW | os.O_NOCTTY
        )
    except OSError:
        return None
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode) or _look(before) != recording.look:
            return None
        content_hash, read = fd_hash(fd)
        if read != recording.size or _look(os.fstat(fd)) != recording.look:
            return None
        return content_hash
    except OSError:
        return None
    finally:
        os.close(fd)


def _look(info: os.stat_result) -> tuple[int, int]:
    return (info.st_size, info.st_mtime_ns)


def file_look(*, path: str | Path) -> tuple[int, int] | None:
    """(size, mtime in ns) of a regular file, None if it is gone or not a regular file."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return (info.st_size, info.st_mtime_ns)


# --- the client's own state, for `status` when the database cannot be asked ----------------


def agent_state_read(*, path: Path) -> dict:
    """What the last cycle wrote (services.agent_state_write), or {} before the first one."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
