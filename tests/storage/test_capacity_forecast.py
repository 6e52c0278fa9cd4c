# ruff: noqa: RUF001 - Russian sentences, Cyrillic letters on purpose
"""The storage forecast from ZONE_DAY and STORAGE_SNAPSHOT rows, and its sentences."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from storage.capacity.forecast import zone_forecasts
from storage.capacity.text import bytes_text, forecast_lines, stale_line, warning_lines
from storage.models import StorageSnapshot, ZoneDay
from tests.factories import make_zone

TB = 10**12
GB = 10**9
TODAY = timezone.localdate()


def days(zone, figures: dict[int, tuple[int, int]]) -> None:
    """{days back from today: (bytes received, bytes purged)}"""
    for back, (received, purged) in figures.items():
        ZoneDay.objects.create(
            zone=zone,
            day=TODAY - timedelta(days=back),
            received=1,
            received_bytes=received,
            purged_bytes=purged,
            updated_at=timezone.now(),
        )


def snapshot(zone, *, total=6 * TB, used=4 * TB, free=2 * TB, files=3 * TB, ago=timedelta(0)):
    return StorageSnapshot.objects.create(
        zone=zone,
        taken_at=timezone.now() - ago,
        total_bytes=total,
        used_bytes=used,
        free_bytes=free,
        file_count=1000,
        file_bytes=files,
        oldest_recording=TODAY - timedelta(days=90),
    )


def forecast_of(zone, **kwargs):
    (found,) = zone_forecasts([zone], **kwargs)
    return found


@pytest.fixture
def zone(db):
    return make_zone(name="kursk", retention_days=180)


def test_the_rates_are_the_mean_of_the_window_of_complete_days(zone, settings):
    settings.OPVIDEO_CAPACITY_WINDOW_DAYS = 14
    days(zone, {back: (40 * GB, 10 * GB) for back in range(1, 15)})
    days(zone, {0: (999 * TB, 0)})  # today is still filling: not counted
    days(zone, {15: (999 * TB, 0), 30: (999 * TB, 0)})  # before the window
    snapshot(zone)

    found = forecast_of(zone)

    assert found.ingest_per_day == 40 * GB
    assert found.purge_per_day == 10 * GB
    assert found.growth_per_day == 30 * GB
    assert found.days_to_full == pytest.approx(2 * TB / (30 * GB))  # 66.7
    assert found.full_on == TODAY + timedelta(days=66)
    # A day without a row inside the window is a day nothing arrived.
    ZoneDay.objects.filter(zone=zone, day=TODAY - timedelta(days=3)).delete()
    assert forecast_of(zone).ingest_per_day == pytest.approx(40 * GB * 13 / 14)


def test_a_zone_with_fewer_days_is_averaged_over_the_days_it_has(zone):
    days(zone, {1: (30 * GB, 0), 2: (10 * GB, 0)})
    snapshot(zone, free=100 * GB)
    found = forecast_of(zone)
    assert found.ingest_per_day == 20 * GB
    assert found.days_to_full == 5
    assert found.warning  # 5 < 14


@pytest.mark.parametrize("purged", [40 * GB, 50 * GB])
def test_growth_of_zero_or_less_never_fills(zone, purged):
    days(zone, {back: (40 * GB, purged) for back in range(1, 15)})
    snapshot(zone, free=1 * GB, files=8 * TB)  # retention (7.2 TB) fits
    found = forecast_of(zone)
    assert found.growth_per_day <= 0
    assert found.days_to_full is None
    assert found.full_on is None
    assert not found.warning


def test_retention_fits_in_the_room_of_the_recordings_plus_the_free_bytes(zone):
    # 180 days x 40 GB = 7.2 TB; room = 3 TB of recordings + 1.7 TB free = 4.7 TB: no fit.
    # The disk is 6 TB, 4 TB used: the other 0.3 TB are the blocks reserved for root,
    # which the storage user never gets.
    days(zone, {back: (40 * GB, 40 * GB) for back in range(1, 15)})
    snapshot(zone, total=6 * TB, used=4 * TB, free=1.7 * TB, files=3 * TB)
    found = forecast_of(zone)
    assert found.retention_bytes == 180 * 40 * GB
    assert found.room_bytes == 4.7 * TB
    assert found.retention_fits is False
    assert found.warning  # it never fills (purge keeps pace) but retention cannot hold

    zone.retention_days = 118  # 4.72 TB: not in 4.7
    assert forecast_of(zone).retention_fits is False
    zone.retention_days = 117  # 4.68 TB
    found = forecast_of(zone)
    assert found.retention_fits is True
    assert not found.warning


def test_the_warning_threshold(zone, settings):
    days(zone, {back: (10 * GB, 0) for back in range(1, 15)})
    snapshot(zone, free=150 * GB, files=10 * TB)  # 15 days to full
    settings.OPVIDEO_CAPACITY_WARN_DAYS = 14
    assert forecast_of(zone).days_to_full == 15
    assert not forecast_of(zone).warning
    settings.OPVIDEO_CAPACITY_WARN_DAYS = 15.5
    assert forecast_of(zone).warning


def test_zones_without_data(zone, settings):
    other = make_zone(name="orel")
    make_zone(name="off", enabled=False)
    snapshot(other)

    found = {f.zone.name: f for f in zone_forecasts()}

    assert set(found) == {"kursk", "orel"}  # the enabled ones, by name
    for name in ("kursk", "orel"):
        f = found[name]
        assert f.ingest_per_day is None and f.growth_per_day is None
        assert f.days_to_full is None and f.full_on is None
        assert f.retention_bytes is None and f.retention_fits is None
        assert not f.warning
    assert found["kursk"].room_bytes is None
    assert found["kursk"].snapshot_stale()
    assert found["orel"].room_bytes == 5 * TB
    assert not found["orel"].snapshot_stale()
    # A zone that never sent a snapshot is not warned about on every admin page.
    assert not found["kursk"].needs_attention() and not found["orel"].needs_attention()
    StorageSnapshot.objects.filter(zone=found["orel"].zone).update(
        taken_at=timezone.now() - timedelta(hours=3)
    )
    assert forecast_of(found["orel"].zone).needs_attention()


def test_a_snapshot_older_than_two_intervals_is_stale(zone, settings):
    settings.OPVIDEO_CAPACITY_INTERVAL_MINUTES = 60
    snapshot(zone, ago=timedelta(minutes=119))
    assert not forecast_of(zone).snapshot_stale()
    assert forecast_of(zone).snapshot_stale(now=timezone.now() + timedelta(minutes=2))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (7.44 * TB, "7,4 ТБ"),
        (6 * TB, "6 ТБ"),
        (6.04 * TB, "6 ТБ"),
        (12.6 * TB, "13 ТБ"),
        (512 * GB, "512 ГБ"),
        (1.25 * GB, "1,2 ГБ"),
        (80 * 10**6, "80 МБ"),
        (0, "0 МБ"),
    ],
)
def test_bytes_in_russian(value, text):
    with translation.override("ru"):
        assert bytes_text(value) == text


def test_the_sentences_in_russian(zone):
    days(zone, {back: (40 * GB, 0) for back in range(1, 15)})
    snapshot(zone, free=920 * GB, files=6.5 * TB)  # 23 days to full; room 7.42 TB
    full_on = TODAY + timedelta(days=23)
    months = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
              "сентября", "октября", "ноября", "декабря"]  # fmt: skip
    on = f"{full_on.day} {months[full_on.month - 1]}"
    if full_on.year != TODAY.year:
        on += f" {full_on.year}"

    with translation.override("ru"):
        lines = forecast_lines(forecast_of(zone))
        assert lines == [
            f"Диск заполнится через 23 дня (к {on}).",
            "Чтобы хранить записи 180 дней при нынешнем притоке, нужно 7,2 ТБ; на диске для "
            "них 7,4 ТБ — помещается.",
        ]
        zone.retention_days = 181
        assert forecast_lines(forecast_of(zone))[1].startswith("Чтобы хранить записи 181 день")
        zone.retention_days = 192  # 7.68 TB
        assert forecast_lines(forecast_of(zone))[1] == (
            "Чтобы хранить записи 192 дня при нынешнем притоке, нужно 7,7 ТБ, а на диске для "
            "них только 7,4 ТБ — не помещается."
        )
        # The warning: what to act on only (23 days is not below 14; retention is).
        assert warning_lines(forecast_of(zone)) == [forecast_lines(forecast_of(zone))[1]]


def test_the_other_sentences_in_russian(zone):
    with translation.override("ru"):
        assert forecast_lines(forecast_of(zone)) == ["Для прогноза пока мало данных."]
        # Not on every admin page (a zone just added), but said where it is asked.
        assert warning_lines(forecast_of(zone)) == []
        assert stale_line(forecast_of(zone)) == (
            "Сервер хранения площадки ещё не прислал ни одного снимка диска."
        )
        days(zone, {1: (10 * GB, 10 * GB)})
        taken = snapshot(zone, ago=timedelta(hours=5)).taken_at
        stamp = timezone.localtime(taken)
        assert warning_lines(forecast_of(zone))[0].startswith(
            f"От сервера хранения площадки нет снимков диска с {stamp.day} "
        )
        assert warning_lines(forecast_of(zone))[0].endswith(f", {stamp:%H:%M}.")
        assert forecast_lines(forecast_of(zone))[0] == (
            "При нынешнем притоке и удалении записей диск не заполнится."
        )
        ZoneDay.objects.update(purged_bytes=0, received_bytes=3 * TB)
        assert forecast_lines(forecast_of(zone))[0] == "Диск заполнится в течение суток."
        ZoneDay.objects.update(received_bytes=2 * TB / 21)
        assert forecast_lines(forecast_of(zone))[0].startswith("Диск заполнится через 21 день (")


def test_days_to_full_count_from_now_not_from_the_snapshot(zone):
    days(zone, {back: (40 * GB, 0) for back in range(1, 15)})
    snapshot(zone, free=400 * GB, ago=timedelta(days=3))
    # 400 GB at 40 GB a day was ten days when the snapshot was taken, three days ago.
    assert forecast_of(zone).days_to_full == pytest.approx(7, abs=0.01)


def test_a_snapshot_dated_ahead_is_not_believed(zone):
    """A storage host whose clock runs a year ahead (or a forged row) must not stay "the
    latest" and hide every real snapshot, nor the staleness of the real ones."""
    real = snapshot(zone, free=1 * TB, ago=timedelta(hours=1))
    snapshot(zone, free=100 * TB, ago=-timedelta(days=365))
    found = forecast_of(zone)
    assert found.snapshot.pk == real.pk
    assert found.snapshot.free_bytes == 1 * TB
