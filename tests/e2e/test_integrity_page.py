"""The recording page in each integrity state (verified, failed, not checked yet; hash from
the workstation or from storage), in headless Chromium at a phone's, a tablet's and a
desktop's width: Russian wording, no horizontal scrolling. Screenshots in test-artifacts/."""

import pytest
from django.urls import reverse
from django.utils import timezone

from storage.models import HashOrigin
from tests.factories import make_video, make_zone, session_id
from tests.helpers import REPO
from tests.services.browser import chromium
from tests.services.directory import PASSWORDS

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ARTIFACTS = REPO / "test-artifacts"
WIDTHS = (390, 768, 1366)
HASH = "ab" * 32


def test_the_recording_page_shows_each_integrity_state(directory, live_server):
    zone = make_zone(name="kursk", path_dst="/srv/video-kursk")
    checked = timezone.now()
    day = timezone.localtime(checked).strftime("%d.%m.%Y")
    name = "Звонок оператора_node_0_domain_0_nauss_0_1629126106_172352 очень длинное имя.mp4"
    states = {
        "verified": (
            make_video(
                zone=zone,
                session_id=session_id(1),
                file_name=f"op101/{name}",
                content_hash=HASH,
                hash_origin=HashOrigin.WORKSTATION,
                integrity_checked_at=checked,
                integrity_ok=True,
            ),
            [f"Целостность подтверждена {day}", "снят на рабочем месте до отправки"],
        ),
        "failed": (
            make_video(
                zone=zone,
                session_id=session_id(2),
                content_hash=HASH,
                hash_origin=HashOrigin.STORAGE,
                integrity_checked_at=checked,
                integrity_ok=False,
            ),
            [f"Проверка целостности не пройдена {day}", "снят на хранилище (слабее"],
        ),
        "unchecked": (
            make_video(zone=zone, session_id=session_id(3)),
            ["Целостность ещё не проверялась", "пока нет"],
        ),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium(locale="ru-RU", viewport={"width": 1366, "height": 900}) as browser:
        page = browser.new_page()
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", "operator1")
        page.fill("input[name=password]", PASSWORDS["operator1"])
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        for state, (video, texts) in states.items():
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(live_server.url + reverse("search:video", args=[video.pk]))
                shown = page.locator(f"dd.integrity-{state}")
                assert shown.count() == 1
                body = page.inner_text("main")
                for text in texts:
                    assert text in body, (state, width, text)
                overflow = page.evaluate(
                    "() => document.documentElement.scrollWidth - window.innerWidth"
                )
                assert overflow <= 0, (state, width, overflow)
                shot = ARTIFACTS / f"integrity-{state}-{width}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 5_000
