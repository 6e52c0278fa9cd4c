"""Registering recordings that have arrived on a zone's storage server (the client's write).

A workstation registers what it has just delivered, in one batch, and deletes its local
copies only for the rows this function confirms: a row confirms a file only if it says what
this workstation sent, workstation, name, size and content hash alike. A row that exists
under the name but says anything else (another workstation's, a cloned workstation's with
other bytes, one written by somebody else, an old client's without size or hash) is a
conflict: the local copy stays. Registering is idempotent: ``(ZONE_ID,
FILE_NAME)`` is unique, so sending the same batch again (the database went away after the
transfer, the client was killed before cleaning up) adds nothing.

The INSERT names only the columns a workstation may write, so its database user can be
granted exactly those (README, "Workstation client"); the other columns take their database
defaults, as they do for the old clients' INSERTs.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db import connections, router

from zones.models import Zone

from .hashing import is_content_hash
from .models import HashOrigin, Video
from .sql import insert_sql

# What a workstation writes; the client's GRANT INSERT lists exactly these columns.
REGISTER_FIELDS = (
    "zone",
    "project_id",
    "session_id",
    "file_name",
    "recording_date",
    "storage_days",
    "size",
    "workstation",
    "content_hash",
    "hash_origin",
)
# What it reads back to confirm a batch (GRANT SELECT on these columns).
CONFIRM_FIELDS = ("zone", "file_name", "size", "content_hash", "workstation")
BATCH_SIZE = 500


@dataclass(frozen=True)
class NewRecording:
    """A recording as it was delivered: its name on storage, ids from its name, its file."""

    file_name: str  # relative to PATH_DST: "<workstation>/<name on the workstation>"
    session_id: str
    project_id: str | None
    recording_date: date
    size: int
    content_hash: str  # SHA-256 of the bytes sent, lowercase hex


class RecordingRejected(ValueError):
    """A recording that cannot become a VIDEO row as given (``recording_problem``, or not a
    SHA-256): the caller's mistake, refused before anything is written."""

    def __init__(self, *, file_name: str, problem: str) -> None:
        super().__init__(f"{file_name}: {problem}")
        self.file_name = file_name
        self.problem = problem


@dataclass
class RegistrationResult:
    # Rows that are in VIDEO and describe these files: the local copies may go.
    registered: list[str] = field(default_factory=list)
    # A row exists under the name but is not this workstation's row for these bytes: keep
    # the local copy.
    conflicts: list[str] = field(default_factory=list)


def recording_problem(*, file_name: str, session_id: str, project_id: str | None) -> str | None:
    """Why these values cannot become a VIDEO row, or None if they can.

    Checked before sending rather than left to the database: an INSERT that skips
    duplicates also turns "too long" into a silent truncation, and a file is better left on
    the workstation than registered under a cut-short id.
    """
    file_name_max, session_id_max, project_id_max = _max_lengths()
    limits = (
        ("file name on storage", file_name, file_name_max),
        ("session id", session_id, session_id_max),
        ("project id", project_id or "", project_id_max),
    )
    for what, value, max_length in limits:
        if len(value) > max_length:
            return f"{what} is {len(value)} characters long, VIDEO holds at most {max_length}"
    if not session_id:
        return "no session id"
    return None


@functools.cache
def _max_lengths() -> tuple[int, int, int]:
    """VIDEO's FILE_NAME, SESSIONID, PROJECTID lengths, read from the model once: every name
    a client scans is checked against them."""
    return tuple(Video._meta.get_field(name).max_length for name in _CHECKED_FIELDS)


_CHECKED_FIELDS = ("file_name", "session_id", "project_id")


def video_register_batch(
    *, zone: Zone, workstation: str, files: Sequence[NewRecording]
) -> RegistrationResult:
    """Insert rows for ``files`` (skipping names already registered), then confirm them.

    One INSERT per ``BATCH_SIZE`` files, each its own transaction (autocommit), then one
    SELECT per ``BATCH_SIZE`` names by the unique key. The read-back is what the caller
    trusts, not the INSERT: a row is confirmed only if it exists after its INSERT committed
    and its workstation, size and hash are the delivered file's; NULL confirms nothing.

    No transaction around the whole: a client's batch (OPVIDEO_BATCH_FILES, 200) is one
    INSERT, atomic on its own, and an explicit transaction would only add two round trips
    per batch (autocommit off and on again). A larger batch that fails half-way leaves rows
    for files that are on storage; the caller keeps every local copy, and registering them
    again next cycle adds nothing.

    Raises ``RecordingRejected`` for a recording that cannot be a row, before any is written.
    """
    result = RegistrationResult()
    if not files:
        return result
    for item in files:
        problem = recording_problem(
            file_name=item.file_name, session_id=item.session_id, project_id=item.project_id
        )
        if problem:
            raise RecordingRejected(file_name=item.file_name, problem=problem)
        if not is_content_hash(item.content_hash):
            raise RecordingRejected(
                file_name=item.file_name,
                problem=f"not a SHA-256 in hex: {item.content_hash!r}",
            )
    connection = connections[router.db_for_write(Video)]
    ops = connection.ops
    fields = [Video._meta.get_field(name) for name in REGISTER_FIELDS]
    stored: dict[str, tuple] = {}
    # SQL written out (storage.sql) rather than through the ORM: a client registers every
    # recording it sends, a batch at a time, and building a queryset and preparing each value
    # field by field cost as much as the database's own work (bench/registration.py).
    with connection.cursor() as cursor:
        for start in range(0, len(files), BATCH_SIZE):
            chunk = files[start : start + BATCH_SIZE]
            params = []
            for item in chunk:
                # In REGISTER_FIELDS' order.
                params += (
                    zone.pk,
                    item.project_id,
                    item.session_id,
                    item.file_name,
                    ops.adapt_datefield_value(item.recording_date),
                    zone.retention_days,
                    item.size,
                    workstation,
                    item.content_hash,
                    HashOrigin.WORKSTATION.value,
                )
            sql = insert_sql(
                connection=connection,
                model=Video,
                fields=fields,
                rows=len(chunk),
                ignore_conflicts=True,
            )
            cursor.execute(sql, params)
        # Read back once every INSERT committed (autocommit): what the caller trusts.
        for start in range(0, len(files), BATCH_SIZE):
            names = [item.file_name for item in files[start : start + BATCH_SIZE]]
            cursor.execute(_confirm_sql(ops, names=len(names)), [zone.pk, *names])
            stored.update((row[0], row[1:]) for row in cursor.fetchall())
    for item in files:
        if item.file_name not in stored:
            continue
        if stored[item.file_name] == (item.size, item.content_hash, workstation):
            result.registered.append(item.file_name)
        else:
            result.conflicts.append(item.file_name)
    return result


def _confirm_sql(ops, *, names: int) -> str:
    """The read-back of ``CONFIRM_FIELDS`` for ``names`` file names of one zone, by the
    unique key: (file name, size, hash, workstation) rows; quoted names from the model,
    values as parameters."""
    zone, file_name, size, content_hash, workstation = (
        ops.quote_name(Video._meta.get_field(name).column) for name in CONFIRM_FIELDS
    )
    table = ops.quote_name(Video._meta.db_table)
    placeholders = ", ".join(["%s"] * names)
    return (
        f"SELECT {file_name}, {size}, {content_hash}, {workstation} FROM {table} "  # noqa: S608
        f"WHERE {zone} = %s AND {file_name} IN ({placeholders})"
    )
