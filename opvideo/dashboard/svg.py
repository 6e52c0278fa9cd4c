"""The dashboard's plots: inline SVG drawn on the server, each with its table.

No charting library and no script: the admin works on an intranet without internet, and
the page must stay fast with twenty zones. A plot is a ``viewBox`` scaled to its box's width
(readable from 390 px up: the box is about as wide as the view box there). Each is an
``<svg role="img">`` with a title and a description, followed by a ``<details>`` table with
the same numbers for screen readers and for anyone who wants the figures.

Strings are assembled here rather than in a template: a zone's two plots and tables come to
some 400 cells, twenty times over, and the template engine would be the slowest part.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from storage.capacity.text import fill_line

from . import formats
from .data import DayDisk, DayIn
from .formats import byte_unit

WIDTH, HEIGHT = 360, 170
LEFT, RIGHT, TOP, BOTTOM = 46, 46, 8, 22
GRID = 4  # divisions of the vertical axis (both axes share the lines)

COLOURS = {
    "received": "#79aec8",
    "bytes": "#264b5d",
    "used": "#417690",
    "projection": "#ba2121",
    "ok": "#3a8a3a",
    "quiet": "#d08a14",
    "failing": "#ba2121",
}


def _e(text) -> str:
    return escape(str(text), quote=True)


def nice_top(value: float, divisions: int = GRID, *, whole: bool = False) -> float:
    """The smallest round axis top (``divisions`` steps of 1, 2, 2.5 or 5 x 10^n) ≥ value;
    ``whole``: steps of whole numbers (counts of things)."""
    if value <= 0:
        return float(divisions)
    raw = value / divisions
    if whole and raw <= 1:
        return float(divisions)
    power = 10 ** math.floor(math.log10(raw))
    factors = (1, 2, 5, 10) if whole and power < 10 else (1, 2, 2.5, 5, 10)
    for factor in factors:
        if raw <= factor * power:
            return factor * power * divisions
    return 10 * power * divisions  # pragma: no cover - the loop always returns


def _empty(text: str) -> SafeString:
    return mark_safe(f'<p class="dash-empty">{_e(text)}</p>')  # noqa: S308 - escaped


def _decimals(step: float) -> int:
    """Decimals that write every multiple of an axis step exactly (2.5 needs one)."""
    for decimals in (0, 1, 2):
        if abs(step * 10**decimals - round(step * 10**decimals)) < 1e-9:
            return decimals
    return 2


def _svg_open(ident: str, title: str, desc: str) -> list[str]:
    return [
        f'<svg class="dash-plot" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" xmlns="http://www.w3.org/2000/svg" '
        f'font-size="11" font-family="sans-serif">',
        f'<title id="{ident}-t">{_e(title)}</title>',
        f'<desc id="{ident}-d">{_e(desc)}</desc>',
    ]


def _month_ticks(first: date, days: int, x_of, *, spacing: float = 64) -> list[str]:
    """Labels on the first of each month (``1 октября``), skipping any too close to the
    last one drawn or to the plot's edges, so none overlap at any width."""
    f = formats.current()
    out: list[str] = []
    last_x = -spacing
    for n in range(days):
        d = first + timedelta(days=n)
        if d.day != 1:
            continue
        x = x_of(n)
        if x - last_x < spacing or x < LEFT + 20 or x > WIDTH - RIGHT - 20:
            continue
        last_x = x
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM + 3}" '
            f'stroke="currentColor"/>'
            f'<text x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="middle" fill="currentColor">'
            f"{_e(f.day(d))}</text>"
        )
    return out


def _grid(left_labels: Sequence[str], right_labels: Sequence[str] = ()) -> list[str]:
    out = []
    plot_h = HEIGHT - TOP - BOTTOM
    for i in range(GRID + 1):
        y = HEIGHT - BOTTOM - plot_h * i / GRID
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="currentColor" stroke-opacity="{0.5 if i == 0 else 0.15}"/>'
        )
        out.append(
            f'<text x="{LEFT - 4}" y="{y + 3.5:.1f}" text-anchor="end" fill="currentColor">'
            f"{_e(left_labels[i])}</text>"
        )
        if right_labels:
            out.append(
                f'<text x="{WIDTH - RIGHT + 4}" y="{y + 3.5:.1f}" fill="currentColor">'
                f"{_e(right_labels[i])}</text>"
            )
    return out


def _table(caption: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    summary = _("Figures as a table")
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in headers)
    # The cells are the formatters' output (digits, separators, unit and month words from
    # the catalogue), never user input: escaping thousands of them would be the slowest
    # part of the page.
    body = "".join(
        f'<tr><th scope="row">{row[0]}</th><td>' + "</td><td>".join(row[1:]) + "</td></tr>"
        for row in rows
    )
    return (
        f'<details class="dash-table"><summary>{_e(summary)}</summary>'
        f"<table><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></details>"
    )


def ingest_plot(days: Sequence[DayIn], *, ident: str, zone: str) -> SafeString:
    """Recordings received per day (bars, left scale) and their bytes (line, right
    scale), with the table of both."""
    f = formats.current()
    if not any(d.received or d.received_bytes for d in days):
        return _empty(
            _(
                "No recordings received in these days yet "
                "(the zone worker adds up each day every hour)."
            )
        )
    n = len(days)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / n
    top_n = nice_top(max(d.received for d in days), whole=True)
    peak_b = max(d.received_bytes for d in days) or 1
    unit = byte_unit(peak_b)
    top_b = nice_top(peak_b / unit[0]) * unit[0]

    def x_of(i: int) -> float:
        return LEFT + step * i + step / 2

    total_n = sum(d.received for d in days)
    total_b = sum(d.received_bytes for d in days)
    title = _("Recordings received per day, zone %(zone)s") % {"zone": zone}
    desc = ngettext(
        "%(days)s day from %(first)s to %(last)s: %(count)s in all, %(bytes)s; "
        "at most %(peak)s a day.",
        "%(days)s days from %(first)s to %(last)s: %(count)s in all, %(bytes)s; "
        "at most %(peak)s a day.",
        n,
    ) % {
        "days": n,
        "first": f.day(days[0].day),
        "last": f.day(days[-1].day),
        "count": ngettext("%(n)s recording", "%(n)s recordings", total_n)
        % {"n": f.number(total_n)},
        "bytes": f.size(total_b),
        "peak": f.number(max(d.received for d in days)),
    }
    parts = _svg_open(ident, title, desc)
    left = [f.number(top_n * i / GRID) for i in range(GRID + 1)]
    right = [
        f.in_unit(top_b * i / GRID, unit, _decimals(top_b / unit[0] / GRID))
        for i in range(GRID + 1)
    ]
    parts += _grid(left, right)
    bar_w = max(step * 0.72, 1)
    for i, d in enumerate(days):
        if not d.received:
            continue
        h = plot_h * d.received / top_n
        parts.append(
            f'<rect class="bar" x="{x_of(i) - bar_w / 2:.2f}" y="{HEIGHT - BOTTOM - h:.2f}" '
            f'width="{bar_w:.2f}" height="{h:.2f}" fill="{COLOURS["received"]}" '
            f'data-value="{d.received}"/>'
        )
    points = " ".join(
        f"{x_of(i):.1f},{HEIGHT - BOTTOM - plot_h * d.received_bytes / top_b:.1f}"
        for i, d in enumerate(days)
    )
    parts.append(
        f'<polyline points="{points}" fill="none" stroke="{COLOURS["bytes"]}" '
        f'stroke-width="1.5" stroke-linejoin="round"/>'
    )
    parts += _month_ticks(days[0].day, n, x_of)
    parts.append("</svg>")
    bars, line = _("recordings a day (left scale)"), _("size a day (right scale)")
    legend = (
        f'<p class="dash-legend"><span class="key" style="background:{COLOURS["received"]}">'
        f"</span>{_e(bars)} "
        f'<span class="key line" style="background:{COLOURS["bytes"]}"></span>'
        f"{_e(line)}</p>"
    )
    table = _table(
        title,
        [_("day"), _("recordings"), _("size")],
        [(f.day(d.day), f.number(d.received), f.size(d.received_bytes)) for d in reversed(days)],
    )
    return mark_safe("".join(parts) + legend + table)  # noqa: S308 - escaped


def disk_plot(
    disk: Sequence[DayDisk], forecast, *, today: date, ident: str, zone: str
) -> SafeString:
    """Storage used (area) and the disk's size (line) per day, and where the used bytes
    are heading at the current net growth: a dashed line to the day the disk is full."""
    f = formats.current()
    if not disk:
        return _empty(_("No disk snapshots yet: the zone worker takes one every hour."))
    first = disk[0].day
    growth = forecast.growth_per_day
    to_full = forecast.days_to_full
    # Far enough ahead to show the day the disk is full, when that is within half a year.
    soon = to_full is not None and to_full <= 180
    ahead = max(math.ceil(to_full) + 3, 14) if soon else 30
    span = (today - first).days + 1 + ahead
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / span
    peak = max(max(d.total for d in disk), max(d.used for d in disk), 1)
    unit = byte_unit(peak)
    top = nice_top(peak / unit[0]) * unit[0]
    last = disk[-1]

    def x_of(n: float) -> float:
        return LEFT + step * n + step / 2

    def y_of(value: float) -> float:
        return HEIGHT - BOTTOM - plot_h * min(max(value, 0), top) / top

    def n_of(d: date) -> int:
        return (d - first).days

    title = _("Storage of zone %(zone)s: used, free and the forecast") % {"zone": zone}
    desc = [
        _("On %(day)s: %(used)s used, %(free)s free of %(total)s.")
        % {
            "day": f.day(last.day),
            "used": f.size(last.used),
            "free": f.size(last.free),
            "total": f.size(last.total),
        },
        fill_line(forecast),
    ]
    parts = _svg_open(ident, title, " ".join(desc))
    labels = [
        f.in_unit(top * i / GRID, unit, _decimals(top / unit[0] / GRID)) for i in range(GRID + 1)
    ]
    parts += _grid(labels)
    base = HEIGHT - BOTTOM
    area = " ".join(f"{x_of(n_of(d.day)):.1f},{y_of(d.used):.1f}" for d in disk)
    parts.append(
        f'<polygon class="used" points="{x_of(n_of(first)):.1f},{base} {area} '
        f'{x_of(n_of(last.day)):.1f},{base}" fill="{COLOURS["used"]}" fill-opacity="0.55"/>'
    )
    sizes = " ".join(f"{x_of(n_of(d.day)):.1f},{y_of(d.total):.1f}" for d in disk)
    end_x = x_of(span - 1)
    parts.append(
        f'<polyline class="total" points="{sizes} {end_x:.1f},{y_of(last.total):.1f}" '
        f'fill="none" stroke="currentColor" stroke-width="1.5"/>'
    )
    # The projection starts at the last snapshot and grows by the net growth a day.
    start_n = n_of(last.day)
    if growth is not None:
        end_n = span - 1
        # The day it is full is marked only when the plot reaches it (within half a year).
        fills_here = to_full is not None and start_n + to_full <= end_n
        if fills_here:
            end_n = start_n + to_full
        end_used = last.used + max(growth, 0) * (end_n - start_n) if growth > 0 else last.used
        parts.append(
            f'<line class="projection" x1="{x_of(start_n):.1f}" y1="{y_of(last.used):.1f}" '
            f'x2="{x_of(end_n):.1f}" y2="{y_of(end_used):.1f}" stroke="{COLOURS["projection"]}" '
            f'stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
        if fills_here and forecast.full_on is not None:
            fx = x_of(end_n)
            parts.append(
                f'<line x1="{fx:.1f}" x2="{fx:.1f}" y1="{TOP}" y2="{base}" '
                f'stroke="{COLOURS["projection"]}" stroke-opacity="0.6"/>'
                f'<text class="full-on" x="{fx - 3:.1f}" y="{TOP + 10}" text-anchor="end" '
                f'fill="{COLOURS["projection"]}">{_e(f.day(forecast.full_on))}</text>'
            )
    today_x = x_of(n_of(today))
    parts.append(
        f'<line x1="{today_x:.1f}" x2="{today_x:.1f}" y1="{TOP}" y2="{base}" '
        f'stroke="currentColor" stroke-opacity="0.35" stroke-dasharray="2 2"/>'
    )
    parts += _month_ticks(first, span, x_of)
    parts.append("</svg>")
    used, disk_size, projected = _("used"), _("disk size"), _("forecast")
    legend = (
        f'<p class="dash-legend"><span class="key" style="background:{COLOURS["used"]}"></span>'
        f"{_e(used)} "
        f'<span class="key line" style="background:currentColor"></span>{_e(disk_size)} '
        f'<span class="key line dashed" style="border-color:{COLOURS["projection"]}"></span>'
        f"{_e(projected)}</p>"
    )
    table = _table(
        title,
        [_("day"), _("used"), _("free"), _("disk size")],
        [(f.day(d.day), f.size(d.used), f.size(d.free), f.size(d.total)) for d in reversed(disk)],
    )
    return mark_safe("".join(parts) + legend + table)  # noqa: S308 - escaped


def health_bar(health: dict[str, int], *, ident: str, label: str) -> SafeString:
    """A zone's workstations as one bar split by state (the counts are links beside it)."""
    total = sum(health.values())
    parts = [
        f'<svg class="dash-health" viewBox="0 0 100 8" width="100%" height="10" '
        f'preserveAspectRatio="none" role="img" aria-labelledby="{ident}-t" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="{ident}-t">{_e(label)}</title>'
    ]
    x = 0.0
    if not total:
        parts.append(
            '<rect x="0" y="0" width="100" height="8" fill="currentColor" fill-opacity="0.12"/>'
        )
    for state in ("ok", "quiet", "failing"):
        count = health.get(state, 0)
        if not count:
            continue
        w = 100 * count / total
        parts.append(
            f'<rect class="{state}" x="{x:.2f}" y="0" width="{w:.2f}" height="8" '
            f'fill="{COLOURS[state]}" data-value="{count}"/>'
        )
        x += w
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - escaped
