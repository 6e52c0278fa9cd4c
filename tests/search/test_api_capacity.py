# ruff: noqa: RUF001 - Russian sentences, Cyrillic letters on purpose
"""``GET /api/capacity/``: each enabled zone's storage and forecast, for staff, by token or
session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from search.services import api_token_issue
from storage.models import StorageSnapshot, ZoneDay
from tests.factories import make_zone

pytestmark = pytest.mark.django_db

TB = 10**12
GB = 10**9
URL = "/api/capacity/"


@pytest.fixture
def zones():
    kursk = make_zone(name="kursk", retention_days=180)
    orel = make_zone(name="orel")
    make_zone(name="off", enabled=False)
    today = timezone.localdate()
    for back in range(1, 15):
        ZoneDay.objects.create(
            zone=kursk,
            day=today - timedelta(days=back),
            received=100,
            received_bytes=40 * GB,
            purged=10,
            purged_bytes=10 * GB,
            updated_at=timezone.now(),
        )
    StorageSnapshot.objects.create(
        zone=kursk,
        taken_at=timezone.now() - timedelta(minutes=5),
        total_bytes=6 * TB,
        used_bytes=5.7 * TB,
        free_bytes=300 * GB,
        file_count=123_456,
        file_bytes=5.5 * TB,
        oldest_recording=today - timedelta(days=150),
    )
    return kursk, orel


def test_a_staff_token_gets_every_enabled_zones_forecast(client, zones):
    admin = User.objects.create_user("monitor", password="x-Pass-12345", is_staff=True)
    admin.user_permissions.add(Permission.objects.get(codename="view_zone"))
    _token, key = api_token_issue(user=admin, label="zabbix")

    response = client.get(URL, HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 200
    body = response.json()
    assert [zone["zone"] for zone in body["zones"]] == ["kursk", "orel"]
    kursk, orel = body["zones"]
    assert kursk["snapshot"]["total_bytes"] == 6 * TB
    assert kursk["snapshot"]["file_count"] == 123_456
    assert (
        kursk["snapshot"]["oldest_recording"]
        == (timezone.localdate() - timedelta(days=150)).isoformat()
    )
    assert kursk["ingest_bytes_per_day"] == 40 * GB
    assert kursk["purge_bytes_per_day"] == 10 * GB
    assert kursk["growth_bytes_per_day"] == 30 * GB
    assert kursk["days_to_full"] == 10.0
    assert kursk["full_on"] == (timezone.localdate() + timedelta(days=10)).isoformat()
    assert kursk["retention_days"] == 180
    assert kursk["retention_bytes"] == 7.2 * TB
    assert kursk["room_bytes"] == 5.8 * TB
    assert kursk["retention_fits"] is False
    assert kursk["warning"] is True
    assert kursk["snapshot_stale"] is False
    assert kursk["text"][0].startswith("Диск заполнится через 10 дней (к ")
    assert kursk["text"][1] == (
        "Чтобы хранить записи 180 дней при нынешнем притоке, нужно 7,2 ТБ, а на диске для "
        "них только 5,8 ТБ — не помещается."
    )
    assert kursk["attention"] == kursk["text"]
    assert orel["snapshot"] is None
    assert orel["days_to_full"] is None and orel["retention_fits"] is None
    assert orel["warning"] is False and orel["snapshot_stale"] is True
    assert orel["text"] == ["Для прогноза пока мало данных."]


def test_a_staff_session_works_and_others_are_refused(client, zones):
    anonymous = client.get(URL)
    operator = User.objects.create_user("operator", password="x-Pass-12345")
    _token, key = api_token_issue(user=operator, label="crm")
    not_staff = client.get(URL, HTTP_AUTHORIZATION=f"Token {key}")
    # Staff, but not allowed to see the zones: the admin hides them, so does the API.
    client.force_login(User.objects.create_user("clerk", password="x-Pass-1", is_staff=True))
    staff_without_zones = client.get(URL)
    admin = User.objects.create_user("admin", password="x-Pass-1", is_staff=True)
    admin.user_permissions.add(Permission.objects.get(codename="view_zone"))
    client.force_login(admin)
    session = client.get(URL)
    posted = client.post(URL)

    assert anonymous.status_code == 401
    assert not_staff.status_code == 403
    assert "staff who may view the zones" in not_staff.json()["error"]
    assert staff_without_zones.status_code == 403
    assert session.status_code == 200
    assert len(session.json()["zones"]) == 2
    assert posted.status_code == 405
