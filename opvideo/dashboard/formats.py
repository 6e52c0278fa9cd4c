"""Numbers, bytes and dates as the dashboard writes them, cheaply.

The plots' tables repeat these for every day of every zone (thousands of cells), so the
active language's separators, unit words and day names are looked up once (``current()``,
cached per language) rather than per call: Django's per-call locale lookups would be the
slowest part of the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from django.utils import dateformat, timezone
from django.utils.translation import get_language, gettext

NBSP = "\u00a0"
# Decimal units, as disks are sold and as storage.capacity.text (the admin warning and the
# API, on the same page) writes them.
KB = 1000

# Django's own translated patterns ("%s ГБ"), largest first.
BYTE_UNITS = (
    (KB**4, "%s TB"),
    (KB**3, "%s GB"),
    (KB**2, "%s MB"),
    (KB, "%s KB"),
)
Unit = tuple[int, str]


def byte_unit(value: float) -> Unit:
    """The unit to write ``value`` in: the largest that keeps it at least 1 (MB at least)."""
    for unit in BYTE_UNITS[:3]:
        if value >= unit[0]:
            return unit
    return BYTE_UNITS[2]


@dataclass
class Formats:
    """The active language's way of writing numbers, sizes and days."""

    thousands: str
    decimal: str
    units: dict[str, str]
    _days: dict[tuple[date, bool], str] = field(default_factory=dict)

    def number(self, value: float | None, decimals: int = 0) -> str:
        """``12 345`` and ``1,5`` in Russian (a no-break space groups thousands)."""
        if value is None:
            return "—"
        text = f"{value:,.{decimals}f}"
        if self.thousands != ",":
            # Thousands first: the decimal comma must not be taken for a separator.
            text = text.replace(",", self.thousands).replace(".", self.decimal)
        return text

    def in_unit(self, value: float, unit: Unit, decimals: int | None = None) -> str:
        size, pattern = unit
        scaled = value / size
        if decimals is None:
            # One decimal below ten, none from ten up, no ",0" (storage.capacity.text's way).
            scaled = round(scaled, 1) if scaled < 10 else round(scaled)
            decimals = 0 if scaled == int(scaled) else 1
        return self.units[pattern] % self.number(scaled, decimals)

    def size(self, value: float | None) -> str:
        """``1,8 ТБ``, ``640 ГБ``."""
        if value is None:
            return "—"
        return self.in_unit(value, byte_unit(value))

    def day(self, value: date | None, *, year: bool = False) -> str:
        """``30 ноября`` (the month in the genitive, as Russian dates are written)."""
        if value is None:
            return "—"
        key = (value, year)
        text = self._days.get(key)
        if text is None:
            text = self._days[key] = dateformat.format(value, "j E Y" if year else "j E")
        return text

    def moment(self, value: datetime | None) -> str:
        """A time in TIME_ZONE: ``30 ноября, 14:05`` (with the year when not this one)."""
        if value is None:
            return "—"
        local = timezone.localtime(value)
        year = local.year != timezone.localdate().year
        return f"{self.day(local.date(), year=year)}, {local:%H:%M}"


@lru_cache(maxsize=8)
def _formats(language: str | None) -> Formats:
    russian = (language or "ru").startswith("ru")
    return Formats(
        thousands=NBSP if russian else ",",
        decimal="," if russian else ".",
        units={pattern: gettext(pattern) for _, pattern in BYTE_UNITS},
    )


def current() -> Formats:
    """The formats of the active language (built once per language and process)."""
    return _formats(get_language())
