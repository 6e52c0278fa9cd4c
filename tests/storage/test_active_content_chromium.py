"""Finding 5 in a real browser: a file in PATH_DST that a browser would run as script (an
.html or .svg page, or a page under a recording's name) never runs on the video origin,
neither from the zone's nginx with its rendered config nor from the embedded view of
``make run`` (the application's own origin). Every answer carries ``nosniff`` and
``Content-Security-Policy: sandbox``. A control shows that the same bytes do run in this
Chromium when a plain web server hands them out, so a script that ran would be seen."""

import contextlib
import functools
import http.server
import os
import shutil
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from storage.links import link_token
from tests.factories import LINK_SECRET, unsaved_zone
from tests.services.browser import chromium
from tests.services.nginx import nginx_for_zone

pytestmark = pytest.mark.slow

EXECUTED = "EXECUTED"


def page_script(name: str) -> str:
    # Two traces of a script that ran: the title, and a request back to where it came from.
    return f"document.title='{EXECUTED}';fetch('/executed?{name}');"


PAGES = {
    "evil.html": "<html><head><title>page</title></head><body><p>recording</p>"
    "<script>{script}</script></body></html>",
    "sub/evil.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    "<script>{script}</script></svg>",
    # A page under the zone's own video type: served as video, never as a page.
    "evil.mp4": "<!DOCTYPE html><html><body><script>{script}</script></body></html>",
    "evil.webm": "<!DOCTYPE html><html><body><script>{script}</script></body></html>",
}
# Which zone (by its video type) a file is requested through.
ZONE_OF = {"evil.html": "mp4", "sub/evil.svg": "mp4", "evil.mp4": "mp4", "evil.webm": "webm"}


@pytest.fixture(scope="module")
def storage() -> Iterator[Path]:
    """PATH_DST holding the pages; world-readable, as nginx's workers need."""
    base = Path(tempfile.mkdtemp(prefix="opvideo-active-", dir="/tmp"))
    for name, text in PAGES.items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(script=page_script(name)))
    for root, _dirs, files in os.walk(base):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(Path(root) / f, 0o644)
    yield base
    shutil.rmtree(base)


def zone_of(extension: str, storage: Path):
    return unsaved_zone(name=f"active-{extension}", path_dst=str(storage), file_extension=extension)


@pytest.fixture(scope="module")
def nginx_bases(storage, tmp_path_factory) -> Iterator[dict[str, str]]:
    """One nginx per video type, each with render_nginx_conf's config for its zone."""
    with contextlib.ExitStack() as stack:
        bases = {}
        for extension in ("mp4", "webm"):
            server = stack.enter_context(
                nginx_for_zone(
                    zone=zone_of(extension, storage),
                    workdir=tmp_path_factory.mktemp(f"nginx-{extension}"),
                )
            )
            bases[extension] = server.base
        yield bases


def signed(uri: str) -> str:
    expires = int(time.time()) + 600
    token = link_token(uri=uri, expires=expires, secret=LINK_SECRET)
    query = urllib.parse.urlencode({"md5": token, "expires": expires})
    return urllib.parse.quote(uri, safe="/") + "?" + query


@pytest.fixture(params=["nginx", pytest.param("embedded", marks=pytest.mark.django_db(True))])
def base_of(request, storage) -> dict[str, str]:
    """Where each zone's links point: its nginx, or the embedded view on a live server."""
    if request.param == "nginx":
        return request.getfixturevalue("nginx_bases")
    live = request.getfixturevalue("live_server")
    overrides = override_settings(OPVIDEO_EMBEDDED_MEDIA=True)
    overrides.enable()
    request.addfinalizer(overrides.disable)
    bases = {}
    for extension in ("mp4", "webm"):
        zone = zone_of(extension, storage)
        zone.save()
        bases[extension] = f"{live.url}/media/z/{zone.pk}"
    return bases


def visit(url: str) -> dict:
    """Open ``url`` in Chromium as a page of its own; what the page became and did."""
    with chromium() as browser:
        page = browser.new_page()
        requests: list[str] = []
        browser.on("request", lambda r: requests.append(r.url))
        response = page.goto(url, wait_until="load")
        # A script, had one run, has had its chance by now (its fetch too).
        page.wait_for_timeout(500)
        return {
            "status": response.status,
            "headers": response.headers,
            "title": page.title(),
            "document_type": page.evaluate("document.contentType"),
            "scripts": page.evaluate("document.getElementsByTagName('script').length"),
            "content": page.content(),
            "executed": [u for u in requests if "/executed" in u],
        }


@pytest.mark.parametrize("name", list(PAGES))
def test_a_page_in_path_dst_never_runs_on_the_video_origin(name, base_of):
    seen = visit(base_of[ZONE_OF[name]] + signed("/" + name))

    assert seen["executed"] == []
    assert seen["title"] != EXECUTED
    assert seen["headers"]["x-content-type-options"] == "nosniff"
    assert seen["headers"]["content-security-policy"] == "sandbox"
    if name.endswith((".mp4", ".webm")):
        # The zone's recordings are served, as video: the browser makes no page of them.
        assert seen["status"] == 200
        assert seen["headers"]["content-type"] == f"video/{ZONE_OF[name]}"
        assert seen["document_type"] == f"video/{ZONE_OF[name]}"
    else:
        # Anything else is not served at all, even with a valid signature: the page's
        # bytes never reach the browser (what shows is the server's own 404).
        assert seen["status"] == 404
        assert "/executed?" not in seen["content"]
    assert seen["scripts"] == 0


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def plain_server(storage) -> Iterator[str]:
    """The same files from a web server with none of the protections."""
    handler = functools.partial(_Quiet, directory=str(storage))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("name", ["evil.html", "sub/evil.svg"])
def test_control_the_same_page_served_plainly_does_run(name, plain_server):
    seen = visit(f"{plain_server}/{name}")

    assert seen["status"] == 200
    assert seen["executed"] == [f"{plain_server}/executed?{name}"]
    if name.endswith(".html"):
        assert seen["title"] == EXECUTED
