"""What a recording's file name tells the workstation client: the call's ids and the day it
is dated by, or why the file cannot travel under that name.

Apart from the scan (selectors) because the name is a topic of its own: the zone's pattern
(zones.file_names), the checks that make a name safe for rsync's file list, a URL and a
VIDEO row, and the rule for when the name's date is believed over the file's.
"""

from __future__ import annotations

import logging
import os
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, tzinfo

from django.utils import timezone

from storage.registration import recording_problem
from zones.file_names import call_date_pick, file_name_ids

from .logs import MAIN_LOGGER

log = logging.getLogger(MAIN_LOGGER)


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


def recording_date_of(
    *, name: str, mtime: float, named: date | None = None, tz: tzinfo | None = None
) -> date:
    """The recording date of the file ``name``: the date in its name (``named``, the
    pattern's ``date``: the day the call began, also past midnight) when it is within a day
    of the modification date (``mtime``), else the modification date, in TIME_ZONE (or
    ``tz``, looked up once by a caller dating many files); never the number in the session
    id. The rule is zones.file_names' ``call_date_pick``, which the zone worker's start time
    follows too.

    A name's date refused is logged, once per file and modification time in this process:
    the file stays in PATH_SRC until it is delivered, and a cycle every few minutes should
    not repeat the same warning each time.
    """
    zone = tz or timezone.get_default_timezone()
    picked = call_date_pick(named=named, modified=mtime, tz=zone)
    if named is not None and picked != named:
        _name_date_refused(name=name, mtime=mtime, named=named, picked=picked, tz=zone)
    return picked


# The files already warned about, as (name, modification time): bounded, so a workstation
# with a large backlog of such names does not grow the service's memory; one forgotten is
# warned about again, which is harmless.
_REFUSED_REMEMBERED = 10_000
_refused: OrderedDict[tuple[str, float], None] = OrderedDict()


def _name_date_refused(*, name: str, mtime: float, named: date, picked: date, tz: tzinfo) -> None:
    key = (name, mtime)
    if key in _refused:
        return
    _refused[key] = None
    if len(_refused) > _REFUSED_REMEMBERED:
        _refused.popitem(last=False)
    log.warning(
        "%s: the date in its name, %s, is more than a day from its modification date, %s (%s): "
        "dated by the modification date",
        name_printable(name),
        named.isoformat(),
        picked.isoformat(),
        tz,
    )
