"""Reads of the workstation client: its zone's row, the recordings waiting in PATH_SRC, its
last state; and, for the admin, the workstations that have gone quiet."""

from __future__ import annotations

import heapq
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.db.models import Q, QuerySet
from django.utils import timezone

from storage.registration import recording_problem
from zones.file_names import file_name_ids, file_name_pattern_check
from zones.models import Zone

from .models import Workstation

# The CONFIG columns the client reads; its database user may SELECT only these
# (client_agent/deploy/grants.sql). The link secret and the video server's address stay out.
CLIENT_ZONE_FIELDS = (
    "id",
    "name",
    "enabled",
    "server",
    "ssh_user",
    "ssh_port",
    "ssh_private_key",
    "speed_kbps",
    "path_src",
    "path_dst",
    "file_extension",
    "file_name_pattern",
    "retention_days",
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
class LocalRecording:
    """A finished recording on the workstation, as it was when it was looked at."""

    name: str  # in PATH_SRC
    stored_name: str  # FILE_NAME on storage and in VIDEO: "<workstation>/<name>"
    size: int
    mtime_ns: int
    session_id: str
    project_id: str | None
    recording_date: date

    @property
    def look(self) -> tuple[int, int]:
        """What has to be unchanged for the file to still be the one that was sent."""
        return (self.size, self.mtime_ns)


@dataclass(frozen=True)
class Unparseable:
    name: str
    reason: str


@dataclass
class Scan:
    ready: list[LocalRecording] = field(default_factory=list)
    settling: list[str] = field(default_factory=list)
    unparseable: list[Unparseable] = field(default_factory=list)
    ready_total: int = 0  # finished recordings found, of which ``ready`` holds the oldest


def recordings_scan(
    *,
    directory: Path,
    extension: str,
    pattern: str,
    workstation: str,
    settle_seconds: float,
    now: float,
    limit: int | None = None,
) -> Scan:
    """The recordings in ``directory``: finished ones, ones still being written, and ones left
    in place (a name the pattern cannot read, a time in the future).

    With ``limit``, ``ready`` holds only the ``limit`` oldest finished recordings (and
    ``ready_total`` says how many there are): memory then stays bounded however large a
    backlog grows, and the caller takes the rest in further rounds.

    Finished means not modified for ``settle_seconds``; ``recordings_recheck`` then makes
    sure they are not growing either. Only regular files directly in the directory with the
    zone's extension count; hidden and temporary files and symbolic links are not
    recordings (a link could point anywhere on the workstation). Oldest first, so a backlog
    drains in recording order.

    Raises OSError if the directory cannot be read, and ValidationError for a pattern the
    zone's row should not hold: both are the cycle's failure, not a file's.
    """
    file_name_pattern_check(pattern)
    suffix = "." + extension.lower()
    scan = Scan()

    def finished() -> Iterator[LocalRecording]:
        with os.scandir(directory) as entries:
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
                            name=_printable(name),
                            reason="modified in the future; is this workstation's clock right?",
                        )
                    )
                    continue
                if now - info.st_mtime < settle_seconds:
                    scan.settling.append(name)
                    continue
                recording = _recording(
                    name=name, info=info, pattern=pattern, workstation=workstation
                )
                if isinstance(recording, Unparseable):
                    scan.unparseable.append(recording)
                else:
                    scan.ready_total += 1
                    yield recording

    def oldest_first(recording: LocalRecording) -> tuple[int, str]:
        return recording.mtime_ns, recording.name

    # nsmallest keeps a heap of ``limit`` entries while it consumes the directory.
    scan.ready = (
        heapq.nsmallest(limit, finished(), key=oldest_first)
        if limit
        else sorted(finished(), key=oldest_first)
    )
    scan.settling.sort()
    scan.unparseable.sort(key=lambda u: u.name)
    return scan


def recordings_recheck(
    *, directory: Path, recordings: Iterable[LocalRecording]
) -> tuple[list[LocalRecording], list[str]]:
    """The second look: (still unchanged, changed or gone since the first look)."""
    same, changed = [], []
    for recording in recordings:
        if file_look(path=directory / recording.name) == recording.look:
            same.append(recording)
        else:
            changed.append(recording.name)
    return same, changed


def file_look(*, path: Path) -> tuple[int, int] | None:
    """(size, mtime in ns) of a regular file, None if it is gone or not a regular file."""
    try:
        info = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return (info.st_size, info.st_mtime_ns)


def recording_date_of(*, mtime: float) -> date:
    """The recording date: the file's modification date where the call centre is (TIME_ZONE).

    Not the number inside the session id, which is not the call's time.
    """
    return timezone.localtime(datetime.fromtimestamp(mtime, tz=UTC)).date()


def _recording(
    *, name: str, info: os.stat_result, pattern: str, workstation: str
) -> LocalRecording | Unparseable:
    problem = _name_problem(name)
    if problem:
        return Unparseable(name=_printable(name), reason=problem)
    ids = file_name_ids(name=name, pattern=pattern)
    if ids is None:
        return Unparseable(name=name, reason="the zone's file name pattern finds no session id")
    stored_name = f"{workstation}/{name}"
    problem = recording_problem(
        file_name=stored_name, session_id=ids.session_id, project_id=ids.project_id
    )
    if problem:
        return Unparseable(name=name, reason=problem)
    return LocalRecording(
        name=name,
        stored_name=stored_name,
        size=info.st_size,
        mtime_ns=info.st_mtime_ns,
        session_id=ids.session_id,
        project_id=ids.project_id,
        recording_date=recording_date_of(mtime=info.st_mtime),
    )


# One compiled search instead of a Python loop over every character: the scan looks at
# every file of PATH_SRC each cycle (bench/registration.py).
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


def _name_problem(name: str) -> str | None:
    """Why a name cannot travel as it is (rsync's file list, a URL, a VIDEO row), or None."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "the name is not valid UTF-8"
    if _CONTROL_CHARACTER.search(name):
        return "the name contains control characters"
    if "\\" in name:
        return "the name contains a backslash"
    return None


def _printable(name: str) -> str:
    """The name for a log line: its bytes as UTF-8, the undecodable ones as \\xNN."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


# --- the client's own state, for `status` when the database cannot be asked ----------------


def agent_state_read(*, path: Path) -> dict:
    """What the last cycle wrote (services.agent_state_write), or {} before the first one."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# --- for the admin --------------------------------------------------------------------------


def workstations_quiet(*, now: datetime, quiet_after: timedelta) -> QuerySet[Workstation]:
    """Workstations not heard from, or heard from but not delivering, for ``quiet_after``.

    Both need a person: a silent one is off, broken or cut off from the database; one that
    reports but never succeeds keeps its recordings, which exist nowhere else.
    """
    since = now - quiet_after
    return Workstation.objects.filter(
        Q(last_seen__lt=since) | Q(last_success__isnull=True) | Q(last_success__lt=since)
    )
