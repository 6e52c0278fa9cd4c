"""A moment as people here read it: in TIME_ZONE (Europe/Moscow), never UTC.

For the models' titles (``__str__``: the admin's page titles, breadcrumbs, delete
confirmations, the history's stored object names): a purge run that started at 22:30 UTC is
the run of 01:30 the next day to an admin whose every field shows Moscow time. zones is the
app every other one builds on, so the helper lives here.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import formats, timezone


def local_short(moment: datetime | None) -> str:
    """``01.12.2026 01:30`` (the active language's short date and time) in TIME_ZONE; a dash
    when there is none yet. A value not yet a datetime (a database default before the row
    was read back) is shown as it is."""
    if moment is None:
        return "—"
    if not isinstance(moment, datetime):
        return str(moment)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "SHORT_DATETIME_FORMAT")
