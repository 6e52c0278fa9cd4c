"""A transferred call of two parts on a real nginx, read by the zone worker's real media
read, and what the reviewer's browser tests share to drive it (tests/e2e/conftest.py
makes ``call`` a fixture of every test here)."""

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from search.models import AccessEvent
from storage.media.read import videos_media_read
from storage.models import MediaState
from storage.samples import sample_mp4_make
from tests.factories import make_video, make_zone, session_id
from tests.helpers import free_port
from tests.services.browser import chromium
from tests.services.media import media_tree_make
from tests.services.nginx import nginx_for_zone

CALL = session_id(616_161)
PASSWORD = "Reviewer-password-1"
FIRST_SECONDS = 12
SECOND_SECONDS = 4
FIRST_NAME = f"op101/2026-11-27_14-02-40_{CALL}.mp4"
SECOND_NAME = f"op102/2026-11-27_14-09-00_{CALL}.mp4"


def world_readable(root) -> None:
    """nginx's workers run unprivileged: the test tree (previews included) must be readable."""
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.fixture
def call(tmp_path):
    """Two parts of one call on a real nginx (the second shorter, recorded later, registered
    first) and an unrelated recording; the zone worker's media read (real ffprobe and
    ffmpeg) gives them their start times, durations and previews, as on a storage server."""
    first_sample = sample_mp4_make(path=tmp_path / "first.mp4", seconds=FIRST_SECONDS)
    second_sample = sample_mp4_make(
        path=tmp_path / "second.mp4", seconds=SECOND_SECONDS, tone_hz=660
    )
    media = media_tree_make(sample=first_sample)
    # Each file finished when its part of the call ended, as the recorder leaves it: the
    # media read believes the name's stamp only within a day of that.
    for sample, name, ended in (
        (first_sample, FIRST_NAME, datetime(2026, 11, 27, 11, 2, 40 + FIRST_SECONDS, tzinfo=UTC)),
        (second_sample, SECOND_NAME, datetime(2026, 11, 27, 11, 9, SECOND_SECONDS, tzinfo=UTC)),
    ):
        (media.path_dst / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sample, media.path_dst / name)
        os.utime(media.path_dst / name, (ended.timestamp(), ended.timestamp()))
    port = free_port()
    zone = make_zone(
        name="kursk", path_dst=str(media.path_dst), public_address="127.0.0.1", public_port=port
    )
    second = make_video(
        zone=zone,
        session_id=CALL,
        file_name=SECOND_NAME,
        recording_date=date(2026, 11, 27),
        workstation="op102",
    )
    first = make_video(
        zone=zone,
        session_id=CALL,
        file_name=FIRST_NAME,
        recording_date=date(2026, 11, 27),
        workstation="op101",
    )
    other = make_video(zone=zone, session_id=session_id(1), file_name="LOUD.MP4")
    other.media_state = MediaState.DONE  # the media read leaves it alone
    other.save()
    summary = videos_media_read(zone=zone, now=timezone.now())
    assert (summary.read, summary.previews, summary.failed) == (2, 2, 0), summary.line()
    world_readable(media.path_dst)
    for video in (first, second):
        video.refresh_from_db()
    assert first.started_at == datetime(2026, 11, 27, 11, 2, 40, tzinfo=UTC)  # 14:02:40 MSK
    assert round(first.duration) == FIRST_SECONDS and first.preview
    User.objects.create_user("reviewer", password=PASSWORD, first_name="Анна")
    with nginx_for_zone(zone=zone, workdir=tmp_path / "nginx", port=port) as nginx:
        yield {"first": first, "second": second, "other": other, "nginx": nginx, "port": port}
    shutil.rmtree(media.base)


@contextmanager
def reviewer_page(*, width: int = 1366, height: int = 1000):
    """A page of Chromium in Russian, and the script errors it raises (the tests want none)."""
    with chromium(locale="ru-RU", viewport={"width": width, "height": height}) as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page, errors


def sign_in(page, base: str, next_path: str) -> None:
    page.goto(f"{base}{next_path}")
    assert "/login/" in page.url
    page.fill("input[name=username]", "reviewer")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_selector("#reviewer")


def time_of(page) -> float:
    return page.evaluate("() => document.getElementById('reviewer-video').currentTime")


def wait_time(page, condition: str, timeout: int = 15_000) -> None:
    page.wait_for_function(
        "() => { const t = document.getElementById('reviewer-video').currentTime;"
        f" return {condition}; }}",
        timeout=timeout,
    )


def outside_the_browser(read):
    """``read()`` on a thread of its own: Playwright's sync API runs an event loop on this
    one, where Django refuses database calls. The thread closes its connection after."""

    def run():
        try:
            return read()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def views_of(video) -> int:
    return outside_the_browser(
        lambda: AccessEvent.objects.filter(action="view", video_id=video.pk).count()
    )
