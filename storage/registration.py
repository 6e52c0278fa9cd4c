"""Registering recordings that have arrived on a zone's storage server (the client's write).

A workstation registers what it has just delivered, in one batch, and deletes its local
copies only for the rows this function confirms. Registering is idempotent: ``(ZONE_ID,
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

from django.db import connections, router, transaction
from django.db.models.constants import OnConflict

from zones.models import Zone

from .models import Video

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
)
# What it reads back to confirm a batch (GRANT SELECT on these columns).
CONFIRM_FIELDS = ("zone", "file_name", "size")
BATCH_SIZE = 500


@dataclass(frozen=True)
class NewRecording:
    """A recording as it was delivered: its name on storage, ids from its name, its file."""

    file_name: str  # relative to PATH_DST: "<workstation>/<name on the workstation>"
    session_id: str
    project_id: str | None
    recording_date: date
    size: int


@dataclass
class RegistrationResult:
    # Rows that are in VIDEO and describe these files: the local copies may go.
    registered: list[str] = field(default_factory=list)
    # A row exists under the name but says another size: not this file, keep the local copy.
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

    One INSERT per ``BATCH_SIZE`` files in one transaction. The read-back is what the
    caller trusts, not the INSERT: a row is confirmed only if it exists afterwards and its
    size is the delivered file's (or unknown, as in rows an old client wrote).
    """
    result = RegistrationResult()
    if not files:
        return result
    for item in files:
        problem = recording_problem(
            file_name=item.file_name, session_id=item.session_id, project_id=item.project_id
        )
        if problem:
            raise ValueError(f"{item.file_name}: {problem}")
    alias = router.db_for_write(Video)
    with transaction.atomic(using=alias):
        for start in range(0, len(files), BATCH_SIZE):
            _insert_ignoring_duplicates(
                alias=alias,
                rows=[
                    _row(zone=zone, workstation=workstation, item=item)
                    for item in files[start : start + BATCH_SIZE]
                ],
            )
        stored: dict[str, int | None] = {}
        names = [item.file_name for item in files]
        for start in range(0, len(names), BATCH_SIZE):
            stored.update(
                Video.objects.using(alias)
                .filter(zone=zone, file_name__in=names[start : start + BATCH_SIZE])
                .values_list("file_name", "size")
            )
    for item in files:
        if item.file_name not in stored:
            continue
        size = stored[item.file_name]
        if size is None or size == item.size:
            result.registered.append(item.file_name)
        else:
            result.conflicts.append(item.file_name)
    return result


def _row(*, zone: Zone, workstation: str, item: NewRecording) -> dict:
    return {
        "zone": zone.pk,
        "project_id": item.project_id,
        "session_id": item.session_id,
        "file_name": item.file_name,
        "recording_date": item.recording_date,
        "storage_days": zone.retention_days,
        "size": item.size,
        "workstation": workstation,
    }


def _insert_ignoring_duplicates(*, alias: str, rows: list[dict]) -> None:
    """``INSERT IGNORE`` (``OR IGNORE``, ``ON CONFLICT DO NOTHING``) of ``REGISTER_FIELDS``."""
    connection = connections[alias]
    ops = connection.ops
    fields = [Video._meta.get_field(name) for name in REGISTER_FIELDS]
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [
        f.get_db_prep_save(row[f.name], connection=connection) for row in rows for f in fields
    ]
    sql = (
        f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} "
        f"{ops.quote_name(Video._meta.db_table)} ({columns}) VALUES "
        + ", ".join([one_row] * len(rows))
    )
    suffix = ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)
    if suffix:
        sql = f"{sql} {suffix}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
