"""Reading the call's ids out of a recording's file name, with the zone's pattern.

The recorder on a workstation names each file so that the telephony platform's (Naumen)
session id can be recovered from it, and often the project id too. Sites name files
differently, so each zone may set its own regular expression (``CONFIG.FILE_NAME_PATTERN``);
empty means the standard one below. A pattern names what it finds with the groups
``session_id`` (required) and ``project_id`` (optional).

The check of a pattern lives here, not in the admin form, so every way a zone is written
(admin, services, management commands) refuses the same patterns with the same message, and
the workstation client can say precisely why a stored pattern it cannot use was refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# A Naumen session id such as node_0_domain_0_nauss_0_1629126106_172352 anywhere in the name,
# and a 32-character project id such as corebo00000000000ng9hgl5vhtinhmo anywhere in it (before
# or after the session id) if there is one. The project id is looked for in a lookahead at the
# start so its position does not matter; both are delimited so they are never cut out of a
# longer run of letters and digits.
DEFAULT_FILE_NAME_PATTERN = (
    r"^(?=(?:.*?(?<![A-Za-z0-9])(?P<project_id>[a-z0-9]{32})(?![A-Za-z0-9]))?)"
    r".*?(?<![A-Za-z0-9])(?P<session_id>node_\d+_domain_\d+_nauss_\d+_\d+_\d+)(?![0-9])"
)

GROUPS_REQUIRED = frozenset({"session_id"})
GROUPS_KNOWN = frozenset({"session_id", "project_id"})

MSG_INVALID = _("This is not a valid regular expression: %(error)s")
MSG_NO_GROUPS = _("The expression must name its groups, for example (?P<session_id>…).")
MSG_NO_SESSION = _(
    "The expression must have a group named session_id, for example "
    "(?P<session_id>node_\\d+_domain_\\d+_nauss_\\d+_\\d+_\\d+)."
)
MSG_UNKNOWN_GROUPS = _(
    "Unknown group name(s): %(names)s. Only session_id and project_id are used "
    "(check the spelling)."
)


@dataclass(frozen=True)
class FileNameIds:
    session_id: str
    project_id: str | None


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
    """The ids in ``name`` found with ``pattern`` (empty: the standard one), or None.

    Raises ValidationError for a pattern that ``file_name_pattern_check`` refuses (a legacy
    row or a hand-written UPDATE can hold anything).
    """
    match = file_name_pattern_compile(pattern).search(name)
    if match is None or not match.group("session_id"):
        return None
    return FileNameIds(
        session_id=match.group("session_id"),
        project_id=match.groupdict().get("project_id") or None,
    )
