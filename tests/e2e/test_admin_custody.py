# ruff: noqa: RUF001 - Russian text, Cyrillic letters on purpose
"""The admin pages issue 12 changed, as an admin sees them in Chromium at a phone's, a
tablet's and a desktop's width: the workstations (collisions), the integrity findings, a
recording's page (hash, its origin, integrity) and a purge run (kept: differs from its row).
Russian wording, no horizontal scrolling of the page. Screenshots in test-artifacts/."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from client_agent.models import Workstation
from storage.models import HashOrigin, IntegrityFinding, PurgeRun
from tests.e2e.admin_pages import PASSWORD, WIDTHS, admin_sign_in, page_fits
from tests.factories import make_video, make_zone, session_id
from tests.services.browser import chromium

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_custody_admin_pages_read_in_russian_and_fit(live_server):
    get_user_model().objects.create_superuser("admin", "admin@example.ru", PASSWORD)
    zone = make_zone(name="kursk")
    now = timezone.now()
    video = make_video(
        zone=zone,
        session_id=session_id(1),
        file_name="op101/Звонок оператора_node_0_domain_0_nauss_0_1629126106_172352.mp4",
        content_hash="ab" * 32,
        hash_origin=HashOrigin.WORKSTATION,
        integrity_checked_at=now,
        integrity_ok=False,
    )
    finding = IntegrityFinding.objects.create(
        video=video,
        zone=zone,
        zone_name=zone.name,
        file_name=video.file_name,
        found_at=now,
        kind=IntegrityFinding.Kind.MISMATCH,
        expected_hash="ab" * 32,
        actual_hash="cd" * 32,
        expected_size=video.size,
        actual_size=video.size,
    )
    Workstation.objects.create(
        host="op101",
        zone=zone,
        zone_name=zone.name,
        last_seen=now,
        last_success=now,
        collision_count=2,
        last_error="2 recording(s) kept here: storage or VIDEO holds other content",
    )
    run = PurgeRun.objects.create(
        zone=zone,
        zone_name=zone.name,
        trigger=PurgeRun.Trigger.SCHEDULE,
        status=PurgeRun.Status.FINISHED,
        today=now.date(),
        started_at=now,
        finished_at=now,
        deleted=10,
        differs=1,
        problems="differs: 'op101/x.mp4': kept",
    )
    pages = {
        "workstations": (
            reverse("admin:client_agent_workstation_changelist"),
            ["Рабочие места", "ждут · оставлены · конфликты", "последняя доставка"],
        ),
        "findings": (
            reverse("admin:storage_integrityfinding_changelist"),
            ["нарушение целостности", "содержимое не совпадает с хешем"],
        ),
        "finding": (
            reverse("admin:storage_integrityfinding_change", args=[finding.pk]),
            ["ожидаемый SHA-256", "прочитанный SHA-256"],
        ),
        "recording": (
            reverse("admin:storage_video_change", args=[video.pk]),
            ["где снят хеш", "на рабочем месте", "целостность проверена"],
        ),
        "purge-run": (
            reverse("admin:storage_purgerun_change", args=[run.pk]),
            ["не совпадает с записью"],
        ),
    }
    with chromium(locale="ru-RU", viewport={"width": 1366, "height": 900}) as browser:
        page = browser.new_page()
        admin_sign_in(page, base_url=live_server.url)
        for label, (url, texts) in pages.items():
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                response = page.goto(live_server.url + url)
                assert response.status == 200, (label, response.status)
                body = page.inner_text("body")
                for text in texts:
                    assert text.lower() in body.lower(), (label, width, text)
                page_fits(page, name=f"admin-{label}", width=width)
                if label == "workstations" and width == 1366:
                    # The admin scrolls a wide list inside its box: the page fits, the
                    # list would not. At a desktop's width it must, error column included.
                    hidden = page.evaluate(
                        "() => { const r = document.querySelector('#changelist .results');"
                        " return r.scrollWidth - r.clientWidth; }"
                    )
                    assert hidden <= 0, hidden
