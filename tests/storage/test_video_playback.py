"""A browser really plays a recording through a signed link on the real nginx, and seeking
turns into a byte-range request (HTTP 206) from the middle of the file."""

import shutil
import urllib.parse

import pytest

from storage.links import video_link
from storage.models import Video
from storage.samples import sample_mp4_make
from tests.factories import unsaved_zone
from tests.services.browser import chromium
from tests.services.media import media_tree_make
from tests.services.nginx import nginx_for_zone

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    # ~100 MB: too big for the browser to buffer whole, so a seek needs a new range.
    sample = sample_mp4_make(
        path=tmp_path_factory.mktemp("s") / "long.mp4", seconds=20, cbr_kbps=40_000
    )
    media = media_tree_make(sample=sample)
    zone = unsaved_zone(path_dst=str(media.path_dst), public_address="127.0.0.1")
    with nginx_for_zone(zone=zone, workdir=tmp_path_factory.mktemp("nginx")) as nginx:
        zone.public_port = nginx.port
        yield zone, nginx
    shutil.rmtree(media.base)


def test_signed_link_plays_and_seeking_asks_for_a_range(served):
    zone, nginx = served
    name = "звонок оператора 17.mp4"
    url = video_link(video=Video(zone=zone, file_name=name))
    with chromium() as browser:
        page = browser.new_page()
        page.set_content(f'<video id="v" src="{url}" muted preload="metadata"></video>')
        page.wait_for_function("document.getElementById('v').readyState >= 2", timeout=20000)
        duration = page.evaluate("document.getElementById('v').duration")
        assert duration == pytest.approx(20, abs=1)
        page.evaluate(
            """() => new Promise(resolve => {
                const v = document.getElementById('v');
                v.addEventListener('seeked', resolve, {once: true});
                v.currentTime = v.duration / 2;
            })"""
        )
        page.wait_for_function("document.getElementById('v').readyState >= 2", timeout=20000)
        assert page.evaluate("document.getElementById('v').error") is None
    uri = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
    ranged = [
        e
        for e in nginx.log_entries()
        if e["uri"] == uri and e["status"] == 206 and e["range"].startswith("bytes=")
    ]
    starts = [int(e["range"][len("bytes=") :].split("-")[0]) for e in ranged]
    assert any(start > 0 for start in starts), nginx.log_entries()
