"""Model titles (``__str__``: page titles, breadcrumbs, delete confirmations, the history)
show times in TIME_ZONE like every field beside them, not in UTC: a purge run at 22:30 UTC is
the run of 01:30 on the next day in Moscow."""

from datetime import UTC, datetime

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from search.models import AccessEvent
from storage.models import PurgeRun, StorageSnapshot
from tests.factories import make_zone

pytestmark = pytest.mark.django_db

LATE_UTC = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)
MOSCOW = "01.12.2026 01:30"


@pytest.fixture(autouse=True)
def russian():
    with translation.override("ru"), override_settings(TIME_ZONE="Europe/Moscow"):
        yield


def purge_run(zone) -> PurgeRun:
    return PurgeRun.objects.create(
        zone=zone,
        zone_name=zone.name,
        trigger=PurgeRun.Trigger.SCHEDULE,
        today=LATE_UTC.date(),
        started_at=LATE_UTC,
    )


def test_a_purge_run_is_titled_in_moscow_time():
    run = purge_run(make_zone(name="kursk"))
    assert str(run) == f"kursk {MOSCOW}"
    assert str(PurgeRun.objects.get(pk=run.pk)) == f"kursk {MOSCOW}"


def test_a_storage_snapshot_is_titled_in_moscow_time():
    zone = make_zone(name="kursk")
    snapshot = StorageSnapshot(
        zone=zone,
        taken_at=LATE_UTC,
        total_bytes=1,
        used_bytes=1,
        free_bytes=0,
        file_count=0,
        file_bytes=0,
    )
    assert MOSCOW in str(snapshot)


def test_an_access_event_is_titled_in_moscow_time():
    event = AccessEvent.objects.create(username="ivanov", action="search")
    AccessEvent.objects.filter(pk=event.pk).update(at=LATE_UTC)
    assert str(AccessEvent.objects.get(pk=event.pk)).startswith(f"{MOSCOW} ivanov")


def test_an_unsaved_access_event_has_a_title():
    # The time is the database's default until the row is read back.
    assert "ivanov" in str(AccessEvent(username="ivanov", action="search"))


def test_the_purge_run_page_title_agrees_with_its_fields(admin_client):
    run = purge_run(make_zone(name="kursk"))
    page = admin_client.get(reverse("admin:storage_purgerun_change", args=[run.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert f"kursk {MOSCOW}" in text
    assert "kursk 30.11.2026 22:30" not in text
