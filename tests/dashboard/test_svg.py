# ruff: noqa: RUF001, S314 - Russian text on purpose; the XML parsed is our own output
"""The dashboard's plots (opvideo.dashboard.svg): well-formed SVG, bars in proportion, the
table beside each with the same numbers, Russian words and formats, empty states."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import translation

from opvideo.dashboard.data import DayDisk, DayIn
from opvideo.dashboard.svg import disk_plot, health_bar, ingest_plot, nice_top

SVG = "{http://www.w3.org/2000/svg}"
GB = 10**9
TB = 10**12


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


def parts(html: str) -> tuple[ET.Element, ET.Element]:
    """The SVG and the fallback table of a plot, each parsed as XML (so well-formed)."""
    svg = ET.fromstring(html[html.index("<svg") : html.index("</svg>") + len("</svg>")])
    table = ET.fromstring(html[html.index("<table") : html.index("</table>") + len("</table>")])
    return svg, table


def cells(table: ET.Element) -> list[list[str]]:
    return [[cell.text for cell in row] for row in table.find("tbody")]


FIRST = date(2026, 9, 2)


def days_in(values):
    return [
        DayIn(FIRST + timedelta(days=n), count, count * 20 * 10**6)
        for n, count in enumerate(values)
    ]


def test_ingest_bars_are_in_proportion_and_the_table_has_the_numbers():
    values = [0, 1200, 600, 300, 1500] + [100] * 85
    html = ingest_plot(days_in(values), ident="p1", zone="kursk")
    svg, table = parts(html)
    assert svg.get("viewBox") == "0 0 360 170" and svg.get("width") == "100%"
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Поступление записей по дням, площадка kursk"
    desc = svg.find(f"{SVG}desc").text
    assert desc.startswith("90 дней с 2 сентября по 30 ноября:")
    assert "всего 12\u00a0100 записей" in desc

    bars = svg.findall(f"{SVG}rect[@class='bar']")
    assert len(bars) == 89  # no bar for the empty day
    per_unit = {float(b.get("height")) / int(b.get("data-value")) for b in bars}
    assert max(per_unit) - min(per_unit) < 1e-3  # every bar's height in proportion
    tallest = max(bars, key=lambda b: float(b.get("height")))
    assert tallest.get("data-value") == "1500"
    # Month labels in the genitive, axis numbers grouped the Russian way.
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "1 октября" in texts and "1 ноября" in texts
    assert "2\u00a0000" in texts and "0" in texts
    assert any(t.endswith("ГБ") for t in texts)

    rows = cells(table)
    assert len(rows) == 90
    assert rows[-1] == ["2 сентября", "0", "0 МБ"]  # newest first, the first day last
    assert rows[-5] == ["6 сентября", "1\u00a0500", "30 ГБ"]
    assert table.find("caption").text == "Поступление записей по дням, площадка kursk"


@dataclass
class Forecast:
    """What the plot reads of a storage.capacity.forecast.ZoneForecast."""

    snapshot: object
    growth_per_day: float | None
    days_to_full: float | None
    full_on: date | None


def test_disk_plot_draws_used_size_and_the_forecast_to_the_full_date():
    today = date(2026, 11, 30)
    disk = [
        DayDisk(today - timedelta(days=n), 5 * TB - n * 10 * GB, 0, 6 * TB)
        for n in range(59, -1, -1)
    ]
    disk = [DayDisk(d.day, d.used, d.total - d.used, d.total) for d in disk]
    forecast = Forecast(
        snapshot=True, growth_per_day=10 * GB, days_to_full=100.0, full_on=date(2027, 3, 10)
    )
    html = disk_plot(disk, forecast, today=today, ident="d1", zone="kursk")
    svg, table = parts(html)
    assert svg.find(f"{SVG}polygon[@class='used']") is not None
    assert svg.find(f"{SVG}polyline[@class='total']") is not None
    line = svg.find(f"{SVG}line[@class='projection']")
    # It rises (SVG's y grows downward) to the disk's size at the full date.
    assert float(line.get("y2")) < float(line.get("y1"))
    total_y = svg.find(f"{SVG}polyline[@class='total']").get("points").split()[-1].split(",")[1]
    assert abs(float(line.get("y2")) - float(total_y)) < 0.2
    assert svg.find(f"{SVG}text[@class='full-on']").text == "10 марта"
    desc = svg.find(f"{SVG}desc").text
    assert "занято 5 ТБ, свободно 1 ТБ из 6 ТБ" in desc
    # The sentence of storage.capacity.text, as the admin warning and the API say it.
    assert "Диск заполнится через 100 дней (к 10 марта 2027)." in desc
    rows = cells(table)
    assert len(rows) == 60
    assert rows[0] == ["30 ноября", "5 ТБ", "1 ТБ", "6 ТБ"]


def test_empty_states_say_why_in_russian():
    assert "Снимков диска ещё нет" in disk_plot([], None, today=date.today(), ident="x", zone="z")
    html = ingest_plot(days_in([0] * 90), ident="y", zone="z")
    assert "За эти дни записи не поступали" in html and "<svg" not in html


def test_health_bar_splits_by_state():
    svg = ET.fromstring(health_bar({"ok": 6, "quiet": 3, "failing": 1}, ident="h", label="6, 3, 1"))
    widths = {r.get("class"): float(r.get("width")) for r in svg.findall(f"{SVG}rect")}
    assert widths == {"ok": 60.0, "quiet": 30.0, "failing": 10.0}
    assert svg.find(f"{SVG}title").text == "6, 3, 1"


@pytest.mark.parametrize(
    ("value", "whole", "top"),
    [(1750, True, 2000), (7, True, 8), (2, True, 4), (6.0, False, 8.0), (0.9, False, 1.0)],
)
def test_axis_tops_are_round(value, whole, top):
    assert nice_top(value, whole=whole) == top


def test_no_full_date_marker_when_the_disk_fills_beyond_the_plot():
    today = date(2026, 11, 30)
    disk = [DayDisk(today - timedelta(days=n), 3 * TB, 3 * TB, 6 * TB) for n in (1, 0)]
    forecast = Forecast(
        snapshot=True, growth_per_day=10 * GB, days_to_full=307.2, full_on=date(2027, 10, 3)
    )
    svg, _ = parts(disk_plot(disk, forecast, today=today, ident="d2", zone="orel"))
    assert svg.find(f"{SVG}text[@class='full-on']") is None
    line = svg.find(f"{SVG}line[@class='projection']")
    assert float(line.get("y2")) < float(line.get("y1"))  # still rising, to the edge
    assert "через 307 дней (к 3 октября 2027)" in svg.find(f"{SVG}desc").text
