"""A zone's forecast in sentences, for the API, the admin warning and the dashboard.

English msgids translated in the catalogue (Russian plural forms through ngettext); bytes in
decimal units (a "6 TB" disk holds 6·10¹² bytes) with the active language's decimal mark.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import dateformat, formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .forecast import ZoneForecast

_UNITS = (
    (10**12, lambda n: _("%(n)s TB") % {"n": n}),
    (10**9, lambda n: _("%(n)s GB") % {"n": n}),
    (10**6, lambda n: _("%(n)s MB") % {"n": n}),
)


def bytes_text(value: float) -> str:
    """``value`` bytes as people say it: «7,4 ТБ», «512 ГБ», «80 МБ» (one decimal below
    ten, none from ten up; a trailing ",0" dropped)."""
    for size, say in _UNITS:
        if value >= size or size == 10**6:
            number = value / size
            if number >= 10:
                return say(formats.number_format(round(number), 0))
            rounded = round(number, 1)
            if rounded == int(rounded):
                return say(formats.number_format(int(rounded), 0))
            return say(formats.number_format(rounded, 1))
    raise AssertionError("unreachable")


def day_text(day, *, today=None) -> str:
    """«23 декабря», with the year when it is not this year's."""
    today = today or timezone.localdate()
    return dateformat.format(day, "j E" if day.year == today.year else "j E Y")


def moment_text(moment: datetime, *, now: datetime | None = None) -> str:
    """«30 ноября, 21:00» in TIME_ZONE (the year when not this year's)."""
    local = timezone.localtime(moment)
    now_local = timezone.localtime(now or timezone.now())
    pattern = "j E, H:i" if local.year == now_local.year else "j E Y, H:i"
    return dateformat.format(local, pattern)


def fill_line(forecast: ZoneForecast) -> str:
    """When the disk fills, or that it does not, or that too little is known yet."""
    if forecast.snapshot is None or forecast.growth_per_day is None:
        return _("Not enough data for a forecast yet.")
    days = forecast.days_to_full
    if days is None:
        return _("At the current rate of arrivals and purges the disk does not fill up.")
    whole = int(days)
    if whole < 1:
        return _("The disk fills up within a day.")
    full_on = forecast.full_on
    if full_on is None:
        return ngettext(
            "The disk fills up in %(days)d day.", "The disk fills up in %(days)d days.", whole
        ) % {"days": whole}
    return ngettext(
        "The disk fills up in %(days)d day (by %(date)s).",
        "The disk fills up in %(days)d days (by %(date)s).",
        whole,
    ) % {"days": whole, "date": day_text(full_on)}


def retention_line(forecast: ZoneForecast) -> str | None:
    """Whether the zone's retention fits on the disk at the current rate; None when not
    known yet."""
    fits = forecast.retention_fits
    if fits is None:
        return None
    days = forecast.zone.retention_days
    values = {
        "days": days,
        "need": bytes_text(forecast.retention_bytes),
        "room": bytes_text(forecast.room_bytes),
    }
    if fits:
        return (
            ngettext(
                "Keeping recordings %(days)d day at the current rate needs %(need)s; the disk "
                "has %(room)s for them: it fits.",
                "Keeping recordings %(days)d days at the current rate needs %(need)s; the disk "
                "has %(room)s for them: it fits.",
                days,
            )
            % values
        )
    return (
        ngettext(
            "Keeping recordings %(days)d day at the current rate needs %(need)s; the disk "
            "has only %(room)s for them: it does not fit.",
            "Keeping recordings %(days)d days at the current rate needs %(need)s; the disk "
            "has only %(room)s for them: it does not fit.",
            days,
        )
        % values
    )


def stale_line(forecast: ZoneForecast, *, now: datetime | None = None) -> str | None:
    """That the zone's worker has sent no snapshot for two intervals (or ever); None when
    the last one is fresh."""
    if not forecast.snapshot_stale(now=now):
        return None
    if forecast.snapshot is None:
        return _("The zone's storage server has not sent a disk snapshot yet.")
    return _("No disk snapshot from the zone's storage server since %(when)s.") % {
        "when": moment_text(forecast.snapshot.taken_at, now=now)
    }


def forecast_lines(forecast: ZoneForecast) -> list[str]:
    """The forecast in sentences: when the disk fills, and whether retention fits."""
    lines = [fill_line(forecast)]
    retention = retention_line(forecast)
    if retention is not None:
        lines.append(retention)
    return lines


def warning_lines(forecast: ZoneForecast, *, now: datetime | None = None) -> list[str]:
    """Only what the admin must act on (``ZoneForecast.needs_attention``): snapshots that
    stopped coming, the disk filling within OPVIDEO_CAPACITY_WARN_DAYS, retention that does
    not fit. Empty: nothing to say (a zone that never sent a snapshot included)."""
    lines = []
    if forecast.snapshot is not None and forecast.snapshot_stale(now=now):
        lines.append(stale_line(forecast, now=now))
    days = forecast.days_to_full
    if days is not None and days < settings.OPVIDEO_CAPACITY_WARN_DAYS:
        lines.append(fill_line(forecast))
    if forecast.retention_fits is False:
        lines.append(retention_line(forecast))
    return lines
