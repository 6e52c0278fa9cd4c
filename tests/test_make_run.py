"""`make run` from the README, for real: it prepares SQLite and the demo, prints the login,
and serves pages where that login works and the demo recordings are listed."""

import http.cookiejar
import os
import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from tests.helpers import REPO, free_port
from tests.test_compile_messages import assert_compiled, make_stale

pytestmark = pytest.mark.slow


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    var = tmp_path_factory.mktemp("var")
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        # make run must not lean on anything the test command exported.
        if k not in {"DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DATABASE_URL"}
    }
    env.update(OPVIDEO_VAR_DIR=str(var), OPVIDEO_RUN_ADDR=f"127.0.0.1:{port}")
    log = var / "make-run.log"
    make_stale()  # make run must compile the catalogue a pull changed
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["make", "run"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/admin/login/", timeout=180)
        yield {"base": f"http://127.0.0.1:{port}", "output": log.read_text(), "var": var}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_make_run_compiled_the_message_catalogue(make_run):
    assert_compiled()


def test_make_run_prints_the_login_and_a_demo_session(make_run):
    out = make_run["output"]
    assert re.search(r"Login:\s+demo", out), out
    # The address it really listens on (OPVIDEO_RUN_ADDR), not the default's.
    assert re.search(rf"URL:\s+{re.escape(make_run['base'])}/\n", out), out
    assert re.search(r"Password:\s+\S{8,}", out), out
    assert "node_0_domain_0_nauss_0_1629126106_172352" in out
    assert (make_run["var"] / "opvideo.sqlite3").exists()
    storage = make_run["var"] / "demo" / "storage"
    recordings = [
        p.relative_to(storage) for p in storage.rglob("*.mp4") if ".previews" not in p.parts
    ]
    assert len(recordings) == 3
    # The zone worker's media read ran in-process: every recording has its previews.
    assert "3 newly read" in out, out
    for name in recordings:
        for part in ("poster.jpg", "sprite.jpg", "thumbs.vtt"):
            assert (storage / ".previews" / name / part).stat().st_size > 0, (name, part)


def test_the_printed_login_works_and_lists_the_demo_recordings(make_run):
    base = make_run["base"]
    password = re.search(r"Password:\s+(\S+)", make_run["output"]).group(1)
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/admin/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"username": "demo", "password": password, "csrfmiddlewaretoken": token, "next": "/admin/"}
    ).encode()
    opener.open(urllib.request.Request(f"{base}/admin/login/", data=form))
    session = "node_0_domain_0_nauss_0_1629126555_190001"
    listing = opener.open(f"{base}/admin/storage/video/?q={session}").read().decode()
    assert "op101/2026-11-26_14-02-40_" in listing
    assert "op102/2026-11-26_14-09-13_" in listing
    # Russian by default.
    assert "Выйти" in listing or "Выход" in listing


def test_the_demo_session_is_found_and_plays_on_the_search_page(make_run):
    from tests.services.browser import chromium

    base = make_run["base"]
    password = re.search(r"Password:\s+(\S+)", make_run["output"]).group(1)
    session = re.search(r"Session id:\s+(\S+)", make_run["output"]).group(1)
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{base}/?session={session}")
        page.fill("input[name=username]", "demo")
        page.fill("input[name=password]", password)
        page.click("main form button[type=submit]")
        page.wait_for_selector("table.results-table")
        html = page.content()
        assert '<html lang="ru">' in html  # Russian by default, translated
        assert "Find a recording" not in html
        # The first part plays: in the page's player, or (a page without one) on its own page.
        page.click('button.play[data-part-index="0"]')
        page.wait_for_selector("video")
        page.wait_for_function(
            "() => { const v = document.querySelector('video');"
            " if (v.paused) { v.muted = true; v.play(); }"
            " return v.readyState >= 2 && v.currentTime > 0.5; }",
            timeout=20_000,
        )


@pytest.mark.parametrize(
    ("addr", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000/"),
        ("9000", "http://127.0.0.1:9000/"),
        ("0.0.0.0:8080", "http://127.0.0.1:8080/"),
        ("10.1.2.3:8001", "http://10.1.2.3:8001/"),
        ("[::1]:8000", "http://[::1]:8000/"),
    ],
)
def test_the_demo_prints_where_runserver_listens(addr, url):
    from storage.management.commands.load_demo import demo_url

    assert demo_url(addr) == url
