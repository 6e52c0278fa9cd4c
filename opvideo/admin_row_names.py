"""Russian names, in TIME_ZONE, for the third-party rows the admin shows.

django-axes names its rows with English f-strings and UTC times ("Access Log for ivanov @
2026-11-30 22:56:16+00:00"), django-celery-beat its intervals with the plural of 2 for every
count («каждые 10 минуты») and its one-off runs in UTC. The names appear as a page's
subtitle, in breadcrumbs, on delete confirmations, in the recent actions and in the task
form's choices. ``rename`` replaces those ``__str__`` methods (no field or option changes,
so nothing for migrations to see); opvideo.admin_site.AdminConfig.ready calls it.
"""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.utils import formats, timezone
from django.utils.translation import gettext, npgettext, pgettext
from django_celery_beat.models import ClockedSchedule, IntervalSchedule


def _when(moment) -> str:
    if moment is None:
        return "—"
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _sign_in(row) -> str:
    return gettext("%(username)s, %(when)s") % {
        "username": row.username or "—",
        "when": _when(row.attempt_time),
    }


def _failure(row: AccessFailureLog) -> str:
    name = _sign_in(row)
    return gettext("%(sign_in)s (locked out)") % {"sign_in": name} if row.locked_out else name


_EVERY = {
    "days": lambda n: npgettext("interval", "every %(count)s day", "every %(count)s days", n),
    "hours": lambda n: npgettext("interval", "every %(count)s hour", "every %(count)s hours", n),
    "minutes": lambda n: npgettext(
        "interval", "every %(count)s minute", "every %(count)s minutes", n
    ),
    "seconds": lambda n: npgettext(
        "interval", "every %(count)s second", "every %(count)s seconds", n
    ),
    "microseconds": lambda n: npgettext(
        "interval", "every %(count)s microsecond", "every %(count)s microseconds", n
    ),
}


_EVERY_ONE = {
    "days": lambda: pgettext("interval", "every day"),
    "hours": lambda: pgettext("interval", "every hour"),
    "minutes": lambda: pgettext("interval", "every minute"),
    "seconds": lambda: pgettext("interval", "every second"),
    "microseconds": lambda: pgettext("interval", "every microsecond"),
}


def _interval(row: IntervalSchedule) -> str:
    if row.every == 1 and row.period in _EVERY_ONE:  # «каждый день», not «каждый 1 день»
        return _EVERY_ONE[row.period]()
    phrase = _EVERY.get(row.period)
    if phrase is None:
        return f"{row.every} {row.period}"
    return phrase(row.every) % {"count": row.every}


def _clocked(row: ClockedSchedule) -> str:
    return _when(row.clocked_time)


def rename() -> None:
    AccessAttempt.__str__ = _sign_in
    AccessLog.__str__ = _sign_in
    AccessFailureLog.__str__ = _failure
    IntervalSchedule.__str__ = _interval
    ClockedSchedule.__str__ = _clocked
