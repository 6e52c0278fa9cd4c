"""When a recorded call began and who took it: from the file's name where the zone's pattern
says, otherwise from the file itself.

- Start: the name's ``date`` and ``time`` (the recorder's clock, the call centre's time zone,
  TIME_ZONE) when the name's date is within a day of the file's modification date (the rule
  the workstation client dates the row by, zones.file_names.call_date_pick), else the file's
  modification time less its duration. rsync keeps the workstation's modification time,
  which is when the recorder finished writing: the end of the call.
- Operator: the name's ``operator`` group, else empty, and the pages name the workstation.

The pattern is applied to the name as the workstation had it (FILE_NAME without the
workstation's directory), as the client applied it when it registered the row.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.core.exceptions import ValidationError

from zones.file_names import FileNameIds, call_date_pick, file_name_ids

logger = logging.getLogger(__name__)


def call_name_read(*, file_name: str, pattern: str) -> FileNameIds | None:
    """What the recording's name says with the zone's ``pattern``, or None (no session id,
    or a pattern the zone should not hold: the file's own times count then)."""
    base = file_name.rsplit("/", 1)[-1]
    try:
        return file_name_ids(name=base, pattern=pattern)
    except ValidationError:
        logger.warning("the zone's file name pattern is unusable; %r is dated by its file", base)
        return None


def call_started_at(*, named: FileNameIds | None, modified: float, duration: float) -> datetime:
    """When the call began: the name's date and time, else ``modified`` (the file's mtime,
    seconds since the epoch) less ``duration`` seconds.

    A name's date more than a day from the modification date is not the call's (a stale
    stamp, a misparse, a wrong clock), and the file's times count. Not logged here: the
    workstation client, deciding the same way on the same modification time (rsync keeps
    it), warned about the file when it dated the row.
    """
    if (
        named is not None
        and named.started_at is not None
        and call_date_pick(named=named.date, modified=modified) == named.date
    ):
        return named.started_at
    return datetime.fromtimestamp(modified - duration, tz=UTC)


def call_operator(*, named: FileNameIds | None) -> str:
    """The operator's login from the name, or "" (the pages then show the workstation)."""
    return (named.operator or "") if named is not None else ""
