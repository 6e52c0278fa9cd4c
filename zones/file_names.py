"""Reading the call's ids out of a recording's file name, with the zone's pattern.

The recorder on a workstation names each file so that the telephony platform's (Naumen)
session id can be recovered from it, and often the project id too. Sites name files
differently, so each zone may set its own regular expression (``CONFIG.FILE_NAME_PATTERN``);
empty means the standard one below. A pattern names what it finds with the groups
``session_id`` (required) and, optionally, ``project_id``, ``date`` and ``time`` (when the
call began, as the recorder's clock put it in the name: the recording date shown and the
start time come from there rather than from the file's modification time, as long as the
two are within a day of each other, ``call_date_pick``) and ``operator`` (the operator's
login, where the recorder puts it in the name).

The check of a pattern lives here, not in the admin form, so every way a zone is written
(admin, services, management commands) refuses the same patterns with the same message, and
the workstation client can say precisely why a stored pattern it cannot use was refused.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A Naumen session id such as node_0_domain_0_nauss_0_1629126106_172352 anywhere in the name,
# and a 32-character project id such as corebo00000000000ng9hgl5vhtinhmo anywhere in it (before
# or after the session id) if there is one. The project id is looked for in a lookahead at the
# start so its position does not matter; both are delimited so they are never cut out of a
# longer run of letters and digits. So is a recorder's YYYY-MM-DD_HH-MM-SS stamp, anywhere in
# the name, if there is one: both lookaheads may find nothing, and the session id is found
# the same either way.
DEFAULT_FILE_NAME_PATTERN = (
    r"^(?=(?:.*?(?<![A-Za-z0-9])(?P<project_id>[a-z0-9]{32})(?![A-Za-z0-9]))?)"
    r"(?=(?:.*?(?<![0-9])(?P<date>\d{4}-\d{2}-\d{2})_(?P<time>\d{2}-\d{2}-\d{2})(?![0-9]))?)"
    r".*?(?<![A-Za-z0-9])(?P<session_id>node_\d+_domain_\d+_nauss_\d+_\d+_\d+)(?![0-9])"
)

GROUPS_REQUIRED = frozenset({"session_id"})
GROUPS_KNOWN = frozenset({"session_id", "project_id", "date", "time", "operator"})

MSG_INVALID = _("This is not a valid regular expression: %(error)s")
MSG_NO_GROUPS = _("The expression must name its groups, for example (?P<session_id>…).")
MSG_NO_SESSION = _(
    "The expression must have a group named session_id, for example "
    "(?P<session_id>node_\\d+_domain_\\d+_nauss_\\d+_\\d+_\\d+)."
)
MSG_UNKNOWN_GROUPS = _(
    "Unknown group name(s): %(names)s. Only session_id, project_id, date, time and "
    "operator are used (check the spelling)."
)

# How far the date in a name may lie from the file's modification date (in TIME_ZONE), either
# way, and still be the day the call began. The recorder finishes the file when the call ends:
# a call that began before midnight is named the day before, and a clock a little off puts the
# name a day after. Further off, the name is not the call's date: a later one is a wrong clock,
# an earlier one a years-old stamp, a misparse or a file copied under an old name. Believed,
# it would date the recording in the past, already expired, and the retention purge would
# delete the recording the night it arrived.
NAME_DATE_SLACK = dt.timedelta(days=1)

# The VIDEO column an operator's login goes to (storage.Video.operator) holds this much; a
# longer "login" is not one.
OPERATOR_MAX_LENGTH = 150

# The spellings a recorder uses in names. A time's separators are all the same one.
_DATES = (
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), (0, 1, 2)),  # YYYY-MM-DD
    (re.compile(r"(\d{4})(\d{2})(\d{2})"), (0, 1, 2)),  # YYYYMMDD
    (re.compile(r"(\d{2})\.(\d{2})\.(\d{4})"), (2, 1, 0)),  # DD.MM.YYYY
)
_TIME = re.compile(r"(\d{2})([-:.]?)(\d{2})\2(\d{2})")  # HH-MM-SS, HHMMSS, HH:MM:SS, HH.MM.SS


@dataclass(frozen=True)
class FileNameIds:
    """What a recording's name says: the call's ids, and, where the pattern has the groups
    and their values are real dates and times, when the call began and who took it.

    Two readings are equal when they name the same call (the same ids): when and who are
    read along with the ids but do not make it another call.
    """

    session_id: str
    project_id: str | None
    date: dt.date | None = field(default=None, compare=False)
    time: dt.time | None = field(default=None, compare=False)
    operator: str | None = field(default=None, compare=False)

    @property
    def started_at(self) -> dt.datetime | None:
        """When the call began, aware, in TIME_ZONE (the recorder's clock is the call
        centre's), or None unless the name has both a date and a time."""
        if self.date is None or self.time is None:
            return None
        naive = dt.datetime.combine(self.date, self.time)
        return timezone.make_aware(naive, timezone.get_default_timezone())


def file_name_pattern_check(pattern: str) -> re.Pattern[str]:
    """The compiled pattern, or ValidationError saying what an admin has to change.

    An empty pattern stands for the standard one.
    """
    try:
        compiled = re.compile(pattern or DEFAULT_FILE_NAME_PATTERN)
    except re.error as exc:
        raise ValidationError(
            MSG_INVALID, code="invalid_regex", params={"error": str(exc)}
        ) from exc
    names = set(compiled.groupindex)
    if not names:
        raise ValidationError(MSG_NO_GROUPS, code="no_named_groups")
    if not names >= GROUPS_REQUIRED:
        raise ValidationError(MSG_NO_SESSION, code="no_session_id")
    unknown = names - GROUPS_KNOWN
    if unknown:
        raise ValidationError(
            MSG_UNKNOWN_GROUPS, code="unknown_groups", params={"names": ", ".join(sorted(unknown))}
        )
    return compiled


@lru_cache(maxsize=32)
def file_name_pattern_compile(pattern: str) -> re.Pattern[str]:
    """``file_name_pattern_check`` cached: the client parses thousands of names per pattern."""
    return file_name_pattern_check(pattern)


def file_name_ids(*, name: str, pattern: str = "") -> FileNameIds | None:
    """What ``name`` says, found with ``pattern`` (empty: the standard one), or None when it
    has no session id. A date, time or operator that is not there, or is not a real date,
    time or login (2026-02-30, 25:00:00), is None: the name is still the call's, and the
    callers fall back to the file's own times and to the workstation.

    Raises ValidationError for a pattern that ``file_name_pattern_check`` refuses (a legacy
    row or a hand-written UPDATE can hold anything).
    """
    match = file_name_pattern_compile(pattern).search(name)
    if match is None or not match.group("session_id"):
        return None
    groups = match.groupdict()
    return FileNameIds(
        session_id=match.group("session_id"),
        project_id=groups.get("project_id") or None,
        date=name_date_parse(groups.get("date") or ""),
        time=name_time_parse(groups.get("time") or ""),
        operator=_operator(groups.get("operator") or ""),
    )


def call_date_pick(
    *, named: dt.date | None, modified: float, tz: dt.tzinfo | None = None
) -> dt.date:
    """The day a recorded call is dated by: the date in its name (``named``) when that is
    within ``NAME_DATE_SLACK`` of the file's modification date (``modified``, seconds since
    the epoch) in TIME_ZONE (or ``tz``, looked up once by a caller dating many files), else
    the modification date.

    The one statement of that rule: the workstation client's RECORDING_DATE and the zone
    worker's start time both ask it, so the two cannot come to disagree about a name. A
    caller tells a refused name date by the answer differing from ``named``.
    """
    day = dt.datetime.fromtimestamp(modified, tz=tz or timezone.get_default_timezone()).date()
    if named is not None and abs(named - day) <= NAME_DATE_SLACK:
        return named
    return day


def name_date_parse(text: str) -> dt.date | None:
    """YYYY-MM-DD, YYYYMMDD or DD.MM.YYYY as a date; None for anything else."""
    for spelling, order in _DATES:
        found = spelling.fullmatch(text)
        if found:
            parts = [int(part) for part in found.groups()]
            try:
                return dt.date(parts[order[0]], parts[order[1]], parts[order[2]])
            except ValueError:
                return None
    return None


def name_time_parse(text: str) -> dt.time | None:
    """HH-MM-SS, HHMMSS, HH:MM:SS or HH.MM.SS as a time of day; None for anything else."""
    found = _TIME.fullmatch(text)
    if not found:
        return None
    hour, _sep, minute, second = found.groups()
    try:
        return dt.time(int(hour), int(minute), int(second))
    except ValueError:
        return None


def _operator(text: str) -> str | None:
    login = text.strip()
    return login if 0 < len(login) <= OPERATOR_MAX_LENGTH else None
