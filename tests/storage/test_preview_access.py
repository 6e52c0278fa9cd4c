"""A recording's previews through the video access service: the real nginx with the project's
config and the embedded view of ``make run``, one table of cases for both. Only a poster, a
sprite or an index under /.previews/, each through its own signed link; everything else
hidden stays 404."""

# ruff: noqa: E501, F401, F811 - the case table reads best one case per line; the fixtures
# ``nginx`` and ``target`` are imported for the tests to take as arguments

import os
import shutil
import time
import urllib.parse
from dataclasses import dataclass

import pytest
from django.utils import timezone

from storage.links import video_link, video_preview_links
from storage.models import Video
from storage.samples import sample_mp4_make
from tests.services.media import media_tree_make

# The recordings' nginx and the same two targets as their cases, over this module's
# ``media`` (the recordings' tree with previews beside them).
from tests.storage.test_video_access import (
    Target,
    header_values,
    nginx,
    signed,
    target,
    zone_for,
)

GEOMETRY = {"interval": 2, "tile_width": 160, "tile_height": 90, "columns": 4, "count": 4}
# Recordings (in the media tree) whose previews the tree gets, and what each preview holds.
WITH_PREVIEWS = ["plain.mp4", "звонок оператора 17.mp4", "sub/inner.mp4"]
PARTS = {
    "poster.jpg": b"\xff\xd8POSTER",
    "sprite.jpg": b"\xff\xd8SPRITE",
    "thumbs.vtt": b"WEBVTT\n\n",
}


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    sample = sample_mp4_make(path=tmp_path_factory.mktemp("sample") / "s.mp4", seconds=2, rate=5)
    tree = media_tree_make(sample=sample)
    previews = tree.path_dst / ".previews"
    for name in WITH_PREVIEWS:
        for part, data in PARTS.items():
            path = previews / name / part
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data + name.encode())
    plain = previews / "plain.mp4"
    (plain / ".poster.jpg.1a2b.tmp").write_bytes(b"HIDDEN half-written")
    (plain / "page.html").write_bytes(b"<script>ACTIVE</script>")
    (plain / "other.jpg").write_bytes(b"ACTIVE not a preview name")
    (previews / ".hidden").mkdir()
    (previews / ".hidden" / "poster.jpg").write_bytes(b"HIDDEN directory")
    # A directory of previews that is a link out of PATH_DST.
    outside = tree.base / "outside" / "previews"
    outside.mkdir()
    (outside / "poster.jpg").write_bytes(b"SECRET-OUTSIDE-PATH-DST")
    (previews / "link.mp4").symlink_to(outside)
    for root, dirs, files in os.walk(tree.base):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    yield tree
    shutil.rmtree(tree.base)


@dataclass
class Case:
    name: str
    path: str
    status: set[int]
    body: bytes | None = None
    content_type: str | None = None


POSTER = "/.previews/plain.mp4/poster.jpg"
CASES = [
    Case("poster", signed(POSTER), {200}, PARTS["poster.jpg"] + b"plain.mp4", "image/jpeg"),
    Case("sprite", signed("/.previews/plain.mp4/sprite.jpg"), {200}, PARTS["sprite.jpg"] + b"plain.mp4", "image/jpeg"),
    Case("index", signed("/.previews/plain.mp4/thumbs.vtt"), {200}, PARTS["thumbs.vtt"] + b"plain.mp4", "text/vtt; charset=utf-8"),
    Case("cyrillic name", signed("/.previews/звонок оператора 17.mp4/poster.jpg"), {200}, PARTS["poster.jpg"] + "звонок оператора 17.mp4".encode(), "image/jpeg"),
    Case("in a workstation's directory", signed("/.previews/sub/inner.mp4/sprite.jpg"), {200}, PARTS["sprite.jpg"] + b"sub/inner.mp4", "image/jpeg"),
    Case("unsigned", POSTER, {403}),
    Case("expired", signed(POSTER, expires=int(time.time()) - 60), {410}),
    Case("wrong secret", signed(POSTER, secret="another-secret-of-some-length"), {403}),
    Case("another preview's token", signed("/.previews/plain.mp4/sprite.jpg").replace("sprite.jpg", "poster.jpg"), {403}),
    Case("the recording's token", signed("/plain.mp4").replace("/plain.mp4", POSTER, 1), {403}),
    Case("download appended", signed(POSTER) + "&download=1", {403}),
    Case("a temporary file, signed", signed("/.previews/plain.mp4/.poster.jpg.1a2b.tmp"), {404}),
    Case("active content, signed", signed("/.previews/plain.mp4/page.html"), {404}),
    Case("another picture name, signed", signed("/.previews/plain.mp4/other.jpg"), {404}),
    Case("a hidden directory, signed", signed("/.previews/.hidden/poster.jpg"), {404}),
    Case("a link out of PATH_DST", signed("/.previews/link.mp4/poster.jpg"), {403, 404}),
    Case("no such preview", signed("/.previews/nothing.mp4/poster.jpg"), {404}),
    Case("the tree, listed", signed("/.previews/"), {404}),
    Case("a directory, listed", signed("/.previews/plain.mp4/"), {404}),
    Case("a preview without its recording's name", signed("/.previews/poster.jpg"), {404}),
    Case("out of the tree", signed("/.previews/../plain.mp4"), {400, 403, 404}),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_preview_case(case, target):
    response, body = target.request("GET", case.path)
    assert response.status in case.status, (response.status, body[:200])
    for marker in (b"SECRET-OUTSIDE-PATH-DST", b"HIDDEN", b"ACTIVE"):
        assert marker not in body
    assert header_values(response, "X-Content-Type-Options") == {"nosniff"}
    assert header_values(response, "Content-Security-Policy") == {"sandbox"}
    if case.body is not None:
        assert body == case.body
        assert response.getheader("Content-Type") == case.content_type


def test_the_hidden_rule_still_covers_everything_else(target):
    # A hidden name anywhere but the previews' own place is 404, signed or not.
    for path in ("/.hidden.mp4", "/sub/.previews/plain.mp4/poster.jpg", "/.previewsx/poster.jpg"):
        response, body = target.request("GET", signed(path))
        assert response.status == 404, path
        assert b"HIDDEN" not in body


def test_links_made_by_the_service_are_served(nginx, media):
    zone = zone_for(media, public_address="127.0.0.1", public_port=nginx.port)
    for name in WITH_PREVIEWS:
        video = Video(zone=zone, file_name=name, preview=GEOMETRY)
        now = timezone.now()
        links = video_preview_links(video=video, now=now)
        for part, url in (
            ("poster.jpg", links.poster),
            ("sprite.jpg", links.sprite),
            ("thumbs.vtt", links.thumbs),
        ):
            parsed = urllib.parse.urlsplit(url)
            assert (parsed.hostname, parsed.port) == ("127.0.0.1", nginx.port)
            response, body = Target("127.0.0.1", nginx.port).request(
                "GET", f"{parsed.path}?{parsed.query}"
            )
            assert (response.status, body) == (200, PARTS[part] + name.encode()), url
        # The same expiry as the recording's own link.
        expiry = {
            urllib.parse.parse_qs(urllib.parse.urlsplit(u).query)["expires"][0]
            for u in (links.poster, video_link(video=video, now=now))
        }
        assert len(expiry) == 1


def test_no_preview_links_without_previews_or_a_way_to_the_server(media):
    import datetime

    zone = zone_for(media, public_address="127.0.0.1", public_port=8080)
    assert video_preview_links(video=Video(zone=zone, file_name="plain.mp4")) is None
    deleted = Video(
        zone=zone, file_name="plain.mp4", preview=GEOMETRY, delete_date=datetime.date.today()
    )
    assert video_preview_links(video=deleted) is None
    assert (
        video_preview_links(
            video=Video(zone=zone_for(media), file_name="plain.mp4", preview=GEOMETRY)
        )
        is None
    )
    no_secret = zone_for(media, public_address="127.0.0.1")
    no_secret.link_secret = ""
    assert (
        video_preview_links(video=Video(zone=no_secret, file_name="plain.mp4", preview=GEOMETRY))
        is None
    )
