"""Numbers, bytes and dates as the dashboard writes them, cheaply.

The plots' tables repeat these for every day of every zone (thousands of cells), so they
avoid Django's per-call locale lookups: the separators are chosen once per language.
"""

from __future__ import annotations

from datetime import date

from django.utils import dateformat, timezone
from django.utils.translation import get_language, gettext

NBSP = "\u00a0"
KIB = 1024


def _russian() -> bool:
    return (get_language() or "ru").startswith("ru")


def number(value: float | int | None, decimals: int = 0) -> str:
    """``12 345`` and ``1,5`` in Russian (a no-break space groups thousands), ``12,345``
    and ``1.5`` otherwise; a dash for nothing."""
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}"
    if _russian():
        text = text.replace(",", NBSP).replace(".", ",")
    return text


BYTE_UNITS = (
    (KIB**4, "%s TB"),
    (KIB**3, "%s GB"),
    (KIB**2, "%s MB"),
    (KIB, "%s KB"),
)


def byte_unit(value: float) -> tuple[int, str]:
    """The unit (divisor, Django's own translated "%s GB" pattern) to write ``value`` in."""
    for size, pattern in BYTE_UNITS:
        if value >= size:
            return size, pattern
    return KIB**2, "%s MB"


def in_unit(value: float, unit: tuple[int, str], decimals: int | None = None) -> str:
    size, pattern = unit
    scaled = value / size
    if decimals is None:
        decimals = 0 if scaled >= 100 or scaled == 0 else 1
    return gettext(pattern) % number(scaled, decimals)


def size(value: float | int | None) -> str:
    """``1,8 ТБ``, ``640 ГБ``: in the largest unit that keeps it at least 1."""
    if value is None:
        return "—"
    return in_unit(value, byte_unit(value))


def day(value: date | None, *, year: bool = False) -> str:
    """``30 ноября`` (the month in the genitive, as Russian dates are written)."""
    if value is None:
        return "—"
    return dateformat.format(value, "j E Y" if year else "j E")


def moment(value) -> str:
    """A time in TIME_ZONE: ``30 ноября, 14:05``."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    year = local.year != timezone.localdate().year
    return f"{day(local.date(), year=year)}, {local:%H:%M}"
