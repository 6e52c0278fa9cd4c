"""End to end: an operator signs in with a directory account (real slapd), finds a call by
its session id, plays its first part in headless Chromium from the zone's real nginx through
its signed link, and the audit holds one view: of the part played, none of the merely listed.
A screenshot of the results page is kept in test-artifacts/."""

import shutil

import pytest

from search.models import AccessEvent
from storage.models import Video
from storage.samples import sample_mp4_make
from tests.factories import make_video, make_zone, session_id
from tests.helpers import REPO, free_port
from tests.services.browser import chromium
from tests.services.directory import PASSWORDS
from tests.services.media import media_tree_make
from tests.services.nginx import nginx_for_zone

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ARTIFACTS = REPO / "test-artifacts"
CALL = session_id(424_242)


@pytest.fixture
def site(tmp_path, directory, settings):
    media = media_tree_make(sample=sample_mp4_make(path=tmp_path / "s.mp4", seconds=10))
    port = free_port()
    zone = make_zone(
        name="kursk", path_dst=str(media.path_dst), public_address="127.0.0.1", public_port=port
    )
    make_video(zone=zone, session_id=CALL, file_name="звонок оператора 17.mp4")
    make_video(zone=zone, session_id=CALL, file_name="sub/inner.mp4")
    make_video(zone=zone, session_id=session_id(1), file_name="plain.mp4")
    with nginx_for_zone(zone=zone, workdir=tmp_path / "nginx", port=port) as nginx:
        yield nginx
    shutil.rmtree(media.base)


def test_operator_finds_a_call_and_watches_it(site, live_server):
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium(locale="ru-RU", viewport={"width": 1280, "height": 1000}) as browser:
        page = browser.new_page()
        # The call card of the telephony platform links straight to the session.
        page.goto(f"{live_server.url}/?session={CALL}")
        assert "/login/" in page.url
        page.fill("input[name=username]", "operator1")
        page.fill("input[name=password]", PASSWORDS["operator1"])
        page.click("main form button[type=submit]")

        page.wait_for_selector("table.results-table")
        assert page.locator("table.results-table tbody tr").count() == 2
        assert page.locator("table.results-table tbody").count() == 1  # one call, two parts
        shot = ARTIFACTS / "search-results.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000

        # The first part plays: in the page's player, or (a page without one) on its own page.
        page.click('button.play[data-part-index="0"]')
        page.wait_for_selector("video")
        page.wait_for_function(
            "() => { const v = document.querySelector('video');"
            " if (v.paused) { v.muted = true; v.play(); }"
            " return v.readyState >= 2 && v.currentTime > 1; }",
            timeout=20_000,
        )
        assert page.locator("video").first.evaluate("v => v.error") is None

    served = [e for e in site.log_entries() if e["status"] in (200, 206)]
    assert "/звонок оператора 17.mp4" in {e["uri"] for e in served}
    audit = AccessEvent.objects.filter(username="operator1")
    assert audit.filter(action="search", session_id=CALL, result_count=2).exists()
    first = Video.objects.get(file_name="звонок оператора 17.mp4")
    # One view, of the part played; listing both parts handed out nothing.
    assert list(audit.filter(action="view").values_list("video_id", flat=True)) == [first.pk]
