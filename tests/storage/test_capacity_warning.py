# ruff: noqa: RUF001 - Russian sentences, Cyrillic letters on purpose
"""The storage warning on every admin page: a zone filling within the threshold, a zone
whose retention does not fit, a zone whose worker sent no snapshot; nothing otherwise. In
Chromium at a phone's, a tablet's and a desktop's width."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from storage.models import StorageSnapshot, ZoneDay
from tests.e2e.admin_pages import PASSWORD, WIDTHS, admin_sign_in, page_fits
from tests.factories import make_zone
from tests.services.browser import chromium

TB = 10**12
GB = 10**9


def history(zone, *, received: int, purged: int = 0) -> None:
    today = timezone.localdate()
    for back in range(1, 15):
        ZoneDay.objects.create(
            zone=zone,
            day=today - timedelta(days=back),
            received=1,
            received_bytes=received,
            purged_bytes=purged,
            updated_at=timezone.now(),
        )


def snapshot(zone, *, free: int, files: int, ago=timedelta(minutes=3)) -> StorageSnapshot:
    return StorageSnapshot.objects.create(
        zone=zone,
        taken_at=timezone.now() - ago,
        total_bytes=files + free + 50 * GB,
        used_bytes=files + 20 * GB,
        free_bytes=free,
        file_count=10,
        file_bytes=files,
    )


def zones() -> dict:
    """kursk fills in 9 days; orel keeps pace but 180 days do not fit; tula is fine; lipetsk's
    worker is silent since yesterday; a disabled zone would warn but is not asked."""
    kursk = make_zone(name="kursk", retention_days=30)
    history(kursk, received=100 * GB)
    snapshot(kursk, free=900 * GB, files=3 * TB)  # 30 days (3 TB) fit in 3.9 TB
    orel = make_zone(name="orel", retention_days=180)
    history(orel, received=40 * GB, purged=40 * GB)
    snapshot(orel, free=500 * GB, files=5 * TB)
    tula = make_zone(name="tula", retention_days=30)
    history(tula, received=10 * GB, purged=10 * GB)
    snapshot(tula, free=5 * TB, files=1 * TB)
    lipetsk = make_zone(name="lipetsk", retention_days=30)
    history(lipetsk, received=10 * GB, purged=10 * GB)
    snapshot(lipetsk, free=5 * TB, files=1 * TB, ago=timedelta(hours=26))
    off = make_zone(name="off", enabled=False)
    snapshot(off, free=1 * GB, files=1 * TB, ago=timedelta(days=30))
    return {"kursk": kursk, "orel": orel, "tula": tula, "lipetsk": lipetsk}


@pytest.mark.django_db
def test_every_admin_page_warns_about_the_zones_that_need_an_admin(client):
    found = zones()
    admin = get_user_model().objects.create_superuser("admin", "a@example.ru", PASSWORD)
    client.force_login(admin)

    for url in (
        reverse("admin:index"),
        reverse("admin:zones_zone_changelist"),
        reverse("admin:auth_user_change", args=[admin.pk]),
    ):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
        start = page.index('<ul class="messagelist capacity-warning"')
        html = page[start : page.index("</ul>", start)]
        assert html.count('<li class="warning">') == 3, url
        kursk_url = reverse("admin:zones_zone_change", args=[found["kursk"].pk])
        assert (
            f'Хранилище площадки <a href="{kursk_url}">kursk</a>. Диск заполнится через 9 дней'
            in (html)
        )
        assert (
            "Хранилище площадки <a" in html and ">orel</a>. Чтобы хранить записи 180 дней" in html
        )
        assert "только 5,5 ТБ — не помещается." in html
        assert ">lipetsk</a>. От сервера хранения площадки нет снимков диска с " in html
        assert ">tula</a>" not in html and ">off</a>" not in html


@pytest.mark.django_db
def test_no_warning_when_all_is_well_or_for_who_may_not_see_zones(client):
    tula = make_zone(name="tula", retention_days=30)
    history(tula, received=10 * GB, purged=10 * GB)
    snapshot(tula, free=5 * TB, files=1 * TB)
    users = get_user_model().objects
    client.force_login(users.create_superuser("admin", "a@example.ru", PASSWORD))
    assert "capacity-warning" not in client.get(reverse("admin:index")).content.decode()

    kursk = make_zone(name="kursk")
    history(kursk, received=100 * GB)
    snapshot(kursk, free=900 * GB, files=2 * TB)
    assert "capacity-warning" in client.get(reverse("admin:index")).content.decode()
    # A staff user without the zones' view permission: no link they could not follow.
    client.force_login(users.create_user("clerk", password=PASSWORD, is_staff=True))
    assert "capacity-warning" not in client.get(reverse("admin:index")).content.decode()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_warning_reads_in_russian_and_fits_in_chromium(live_server):
    kursk = zones()["kursk"]
    get_user_model().objects.create_superuser("admin", "admin@example.ru", PASSWORD)
    with chromium(locale="ru-RU", viewport={"width": 1366, "height": 900}) as browser:
        page = browser.new_page()
        admin_sign_in(page, base_url=live_server.url)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(live_server.url + reverse("admin:auth_user_changelist"))
            warning = page.inner_text("ul.capacity-warning")
            assert "Хранилище площадки kursk. Диск заполнится через 9 дней (к " in warning
            assert "не помещается" in warning and "нет снимков диска с" in warning
            page_fits(page, name="admin-capacity-warning", width=width)
        page.click("ul.capacity-warning a:text('kursk')")
        page.wait_for_load_state()
        assert page.url == live_server.url + reverse("admin:zones_zone_change", args=[kursk.pk])
