"""What a recording's file name tells the workstation client: the call's ids and the day it
is dated by, or why the file cannot travel under that name.

Apart from the scan (selectors) because the name is a topic of its own: the zone's pattern
(zones.file_names), the checks that make a name safe for rsync's file list, a URL and a
VIDEO row, and when the name's date is believed over the file's.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from django.utils import timezone

from storage.registration import recording_problem
from zones.file_names import file_name_ids


@dataclass(frozen=True)
class Unparseable:
    """A file left in place: its name (printable) and why."""

    name: str
    reason: str


# What a recording's name says: (session id, project id, the date the call began or None).
NameIds = tuple[str, str | None, date | None]


class NameReader:
    """What a recording's name says, for one scan (``NameIds``), or why it cannot travel as
    it is (``Unparseable``)."""

    def __init__(self, *, pattern: str, workstation: str) -> None:
        self.pattern = pattern
        self.prefix = f"{workstation}/"

    def read(self, name: str) -> NameIds | Unparseable:
        problem = _name_problem(name)
        if problem:
            return Unparseable(name=name_printable(name), reason=problem)
        ids = file_name_ids(name=name, pattern=self.pattern)
        if ids is None:
            return Unparseable(name=name, reason="the zone's file name pattern finds no session id")
        problem = recording_problem(
            file_name=self.prefix + name, session_id=ids.session_id, project_id=ids.project_id
        )
        if problem:
            return Unparseable(name=name, reason=problem)
        return ids.session_id, ids.project_id, ids.date


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


def name_printable(name: str) -> str:
    """The name for a log line: its bytes as UTF-8, the undecodable ones as \\xNN."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def recording_date_of(*, mtime: float, named: date | None = None, tz: tzinfo | None = None) -> date:
    """The recording date: the date in the name (``named``, the pattern's ``date``: the day
    the call began, also past midnight), else the modification date in TIME_ZONE (or
    ``tz``, looked up once by a caller dating many files); never the number in the session
    id. A name's date after the modification date's next day is a wrong clock or a typo,
    and would date the row in the future, which the database refuses: not believed.
    """
    modified = datetime.fromtimestamp(mtime, tz=tz or timezone.get_current_timezone()).date()
    if named is not None and named <= modified + timedelta(days=1):
        return named
    return modified
