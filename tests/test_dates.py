"""Dates as a Russian reader expects them: the month in the genitive after a day, and the
time in TIME_ZONE on the Jinja2 pages as on the admin's (opvideo.formats, opvideo.jinja2)."""

from datetime import UTC, date, datetime

from django.utils import formats, translation

from opvideo.jinja2 import environment


def test_a_day_and_month_take_the_genitive():
    with translation.override("ru"):
        assert formats.date_format(date(2026, 11, 30), "MONTH_DAY_FORMAT") == "30 ноября"
        assert formats.date_format(date(2026, 11, 30), "DATE_FORMAT") == "30 ноября 2026 \u0433."
        # A month with its year stands alone: the nominative.
        assert formats.date_format(date(2026, 11, 30), "YEAR_MONTH_FORMAT") == "Ноябрь 2026 \u0433."


def test_the_jinja2_date_filter_shows_local_time(settings):
    settings.TIME_ZONE = "Europe/Moscow"
    late_evening_utc = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)  # 01:30 on 1 December
    page = environment().from_string('{{ moment|date("j E H:i") }}')
    with translation.override("ru"):
        assert page.render(moment=late_evening_utc) == "1 декабря 01:30"
    # A date has no time zone: shown as it is.
    assert environment().from_string('{{ day|date("d.m.Y") }}').render(day=date(2026, 11, 30)) == (
        "30.11.2026"
    )
