"""First frame: how long a reviewer waits, in Chromium, from submitting a session id on the
search page to the first decoded frame of the call's first part, through gunicorn and the
zone's real nginx (signed links, ``secure_link``), with a 30-minute screen recording whose
index (the ``moov`` atom) is at the END of the file, as recorders that do not rewrite their
files leave it: the browser must fetch the end of the file before it can show anything.

Against its anchor, measured in the same run and the same browser: the same recording opened
directly from nginx by a signed link in a bare page (a ``<video>`` given the link, then
``play()``), timed from the start of that page's navigation (a same-origin one, as the
submit's is) to the first frame.

What one run of the page does (each in a new browser context: a cold HTTP cache, the same
signed-in session): load the search page, fill ``input[name=session]``, submit (the clock
starts at the form's ``submit`` event); on the results page a script of the benchmark's
clicks ``button[data-part-index="0"]`` as soon as the page's own scripts have run (the player
asks ``/videos/<pk>/play/`` for a signed link), and the clock stops at the first frame of
``#reviewer-video``
(``requestVideoFrameCallback``; the ``playing`` event where it is missing). Page and anchor
runs alternate, after a few uncounted warm-up runs of each.

The page's figure compared is submit→first frame, whole: the click is made in the page, so
neither a person's reaction nor the driver's own delay (Playwright finding the button and
checking it can be clicked, 0.1 to 0.6 s on a busy machine) is in it, and nothing is left out.

Targets: median page / median anchor <= 2, and the page's median under 1 s on loopback.

The recording (1920x1080, 5 fps, H.264 + AAC, ~40 MB) is made once by ffmpeg and kept in
var/bench-cache/ (a few minutes on a busy 2-core machine); the database
``opvideo_bench_first_frame`` is kept between runs; scratch files go under /tmp and are
removed.

    python bench/first_frame.py [--runs 20] [--warmup 3] [--anchor-only]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import math
import os
import shutil
import statistics
import struct
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    PYTHON,
    REPO,
    bench_env,
    bench_prepare,
    database_create,
    free_port,
    gunicorn,
    nginx_running,
    scratch_dir,
    server_running,
    zone_fresh,
)

DATABASE = "opvideo_bench_first_frame"
ZONE = "benchframe"
USER, PASSWORD = "bench-viewer", "bench-viewer-password-1"
SESSION = "node_0_domain_0_nauss_0_1764240160_424242"
PROJECT = "corebo00000000000ng9hgl5vhtinhmo"
# A transferred call: two parts on two desks, the first one the one played.
PARTS = (
    ("op101", datetime(2026, 11, 27, 14, 2, 40)),
    ("op102", datetime(2026, 11, 27, 14, 9, 5)),
)
MINUTES = 30
WIDTH, HEIGHT, FPS = 1920, 1080, 5
CACHE = REPO / "var" / "bench-cache"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
TARGET_RATIO, TARGET_SECONDS = 2.0, 1.0
TIMEOUT_MS = 30_000

# Installed in every page before its own scripts: stamps (epoch milliseconds, comparable
# across the two documents of a run) of the submit, the click and the first frame.
PROBE = """
(() => {
  const stamp = () => performance.timeOrigin + performance.now();
  document.addEventListener('submit', () => {
    sessionStorage.setItem('benchSubmit', String(stamp()));
  }, true);
  document.addEventListener('click', (event) => {
    if (event.target.closest && event.target.closest('button[data-part-index]')) {
      window.__benchClick = stamp();
    }
  }, true);
  // The reviewer who clicks the first part the moment the results can be used: the click is
  // made in the page when its deferred scripts have run, so no driver's delay (Playwright
  // finding and checking the button, 0.1 to 0.6 s on a busy machine) enters the figure.
  document.addEventListener('DOMContentLoaded', () => {
    if (!sessionStorage.getItem('benchSubmit')) return;
    setTimeout(() => {
      const button = document.querySelector('button[data-part-index="0"]');
      if (button) button.click();
    }, 0);
  });
  // Media events do not bubble: listen in the capture phase. 'play' comes before any frame
  // is decoded, so the frame callback is in place whatever the player does to the element.
  document.addEventListener('play', (event) => {
    const video = event.target;
    if (video.id !== 'reviewer-video' || window.__benchFrame) return;
    if (video.requestVideoFrameCallback) {
      video.requestVideoFrameCallback((now) => {
        window.__benchFrame = window.__benchFrame || performance.timeOrigin + now;
      });
    }
  }, true);
  document.addEventListener('playing', (event) => {
    if (event.target.id === 'reviewer-video' && !window.__benchPlaying) {
      window.__benchPlaying = stamp();
    }
  }, true);
})();
"""
FIRST_FRAME = (
    "'requestVideoFrameCallback' in HTMLVideoElement.prototype"
    " ? window.__benchFrame : window.__benchPlaying"
)


def recording_command(path: Path) -> list[str]:
    """A call-centre screen: a still desktop (panels, a form), a clock ticking in its bar,
    a counter, and a small region that changes every frame (a video call's thumbnail);
    AAC audio. No ``+faststart``: ffmpeg writes the index after the media data."""
    seconds = MINUTES * 60
    desktop = ",".join(
        [
            f"color=c=0xdfe3e8:s={WIDTH}x{HEIGHT}:r={FPS}:d={seconds}",
            "format=yuv420p",
            f"drawbox=x=0:y=0:w={WIDTH}:h=56:color=0x2b3a55:t=fill",
            "drawbox=x=40:y=96:w=1100:h=900:color=white:t=fill",
            "drawbox=x=1180:y=96:w=700:h=520:color=white:t=fill",
            "drawbox=x=60:y=130:w=700:h=24:color=0xb0b8c4:t=fill",
            "drawbox=x=60:y=180:w=900:h=24:color=0xc8ced6:t=fill",
        ]
    )
    screen = ",".join(
        [
            "[0][1]overlay=x=1560:y=860:shortest=1:format=yuv420",
            rf"drawtext=fontfile={FONT}:text='%{{pts\:hms}}':x=1700:y=14:fontsize=28"
            ":fontcolor=white",
            f"drawtext=fontfile={FONT}:text='Call %{{n}}':x=80:y=240:fontsize=32"
            ":fontcolor=0x333333[v]",
        ]
    )
    return [
        "ffmpeg", "-v", "error", "-y",
        "-f", "lavfi", "-i", desktop,
        "-f", "lavfi", "-i", f"testsrc2=s=320x180:r={FPS},format=yuv420p",
        "-f", "lavfi", "-i", f"sine=frequency=220:sample_rate=48000:duration={seconds}",
        "-filter_complex", screen, "-map", "[v]", "-map", "2:a",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-g", str(FPS * 10),
        "-c:a", "aac", "-b:a", "64k", "-ac", "1",
        "-f", "mp4", str(path),
    ]  # fmt: skip


def top_level_atoms(path: Path) -> list[tuple[str, int, int]]:
    """The file's top-level MP4 boxes: (type, offset, size)."""
    atoms = []
    with path.open("rb") as f:
        end = f.seek(0, os.SEEK_END)
        offset = 0
        while offset < end:
            f.seek(offset)
            size, kind = struct.unpack(">I4s", f.read(8))
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0]
            elif size == 0:
                size = end - offset
            atoms.append((kind.decode("latin-1"), offset, size))
            offset += size
    return atoms


def recording_cached() -> Path:
    """The recording, made once and kept in var/bench-cache/ under a name that changes
    with the command that makes it."""
    key = hashlib.sha256(repr(recording_command(Path("x"))).encode()).hexdigest()[:12]
    path = CACHE / f"first-frame-{MINUTES}min-{key}.mp4"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        print(
            f"making the {MINUTES}-minute recording once (ffmpeg; a few minutes on a busy"
            f" machine), kept as {path.relative_to(REPO)} …",
            flush=True,
        )
        part = path.with_name(f".{path.name}.part")
        started = time.monotonic()
        subprocess.run(recording_command(part), check=True)
        part.chmod(0o644)
        part.replace(path)
        print(f"  made in {time.monotonic() - started:.0f} s", flush=True)
    order = [kind for kind, _offset, _size in top_level_atoms(path)]
    if "moov" not in order or "mdat" not in order or order.index("moov") < order.index("mdat"):
        raise SystemExit(f"{path}: the index must come after the media data, atoms {order}")
    return path


def fill(*, media: Path, recording: Path, nginx_port: int) -> list:
    """The zone served by this run's nginx, the call's parts (the recording under each
    desk's name, hard links) and the viewer, in the kept database."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from storage.models import MediaState, Video
    from zones.models import Zone

    zone_id = zone_fresh(
        bench_env(DATABASE),
        name=ZONE,
        server="storage.bench.example.ru",
        ssh_user="opvideo",
        speed_kbps=3000,
        path_src="/home/oper/.videos",
        path_dst=str(media),
        file_extension="mp4",
        public_address="127.0.0.1",
        public_port=nginx_port,
        enabled=False,
    )
    zone = Zone.objects.get(pk=zone_id)
    parts = []
    for desk, started in PARTS:
        name = f"{desk}/{started:%Y-%m-%d_%H-%M-%S}_{SESSION}_{PROJECT}.mp4"
        target = media / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.parent.chmod(0o755)
        try:
            os.link(recording, target)
        except OSError:  # another file system
            shutil.copyfile(recording, target)
        parts.append(
            Video.objects.create(
                zone=zone,
                project_id=PROJECT,
                session_id=SESSION,
                file_name=name,
                recording_date=started.date(),
                size=recording.stat().st_size,
                workstation=desk,
                started_at=timezone.make_aware(started),
                duration=MINUTES * 60.0,
                width=WIDTH,
                height=HEIGHT,
                codec="h264",
                operator=desk,
                media_state=MediaState.DONE,
            )
        )
    User.objects.filter(username=USER).delete()
    User.objects.create_user(USER, password=PASSWORD)
    return parts


@contextlib.contextmanager
def chromium() -> Iterator:
    """Debian's Chromium with the tests' flags (tests/services/browser.py), never a
    downloaded build."""
    from playwright.sync_api import sync_playwright

    from tests.services.browser import ARGS, CHROMIUM

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def signed_in_state(browser, base: str) -> dict:
    """Sign in once through the login form; every run's context starts from its cookies."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(base + "/login/")
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    if "/login/" in page.url:
        raise SystemExit("the bench user could not sign in")
    state = context.storage_state()
    context.close()
    return state


@contextlib.contextmanager
def cold_page(browser, state: dict | None = None) -> Iterator:
    """A page in a new context: nothing cached, no connection kept from an earlier run.
    ``browser`` may instead be a context kept for all runs (``--warm``): a new page in it,
    with what an earlier run cached (the pages' scripts and styles, not a recording, whose
    link is signed anew each run)."""
    if isinstance(browser, dict):  # --warm: {"page": context, "anchor": context}
        context = browser["page" if state is not None else "anchor"]
        page = context.new_page()
        try:
            yield page
        finally:
            page.close()
        return
    context = browser.new_context(storage_state=state)
    context.add_init_script(PROBE)
    try:
        yield context.new_page()
    finally:
        context.close()


def first_frame_wait(page) -> None:
    """Until the first frame; on a timeout, say what the video element was doing."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(FIRST_FRAME, timeout=TIMEOUT_MS)
    except PlaywrightTimeout:
        state = page.evaluate(
            """() => { const v = document.getElementById('reviewer-video');
            return v && {src: v.currentSrc, readyState: v.readyState, paused: v.paused,
                networkState: v.networkState, error: v.error && v.error.message,
                playing: window.__benchPlaying || null}; }"""
        )
        raise SystemExit(f"no first frame in {TIMEOUT_MS} ms at {page.url}: {state}") from None


BARE_PAGE = """<!doctype html><title>anchor</title><video id="reviewer-video" preload="none">
</video><script>
const video = document.getElementById('reviewer-video');
const src = new URLSearchParams(location.search).get('src');
if (src) { video.src = src; video.play(); }
</script>
"""


@contextlib.contextmanager
def bare_page_server(root: Path) -> Iterator[str]:
    """The anchor's page, a static file served over loopback HTTP by a process of its own
    (a real navigation, as the search page's is; neither Playwright's request interception,
    which would also catch the video's range requests and break playback, nor a server
    sharing this process with the driver). ``?src=<signed link>`` plays it; without, an
    empty page. Yields the page's URL."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_text(BARE_PAGE)
    port = free_port()
    command = [PYTHON, "-m", "http.server", "-b", "127.0.0.1", "-d", str(root), str(port)]
    with server_running(command, port=port):
        yield f"http://127.0.0.1:{port}/index.html"


def anchor_once(browser, bare: str, url: str) -> float:
    """Seconds from the bare page's navigation start to the recording's first frame.

    An empty page of the same origin is opened first, so that, as with the search form's
    submit, the timed navigation is a same-origin one in a renderer already running."""
    with cold_page(browser) as page:
        page.goto(bare)
        page.goto(bare + "?" + urllib.parse.urlencode({"src": url}))
        first_frame_wait(page)
        return page.evaluate(f"(({FIRST_FRAME}) - performance.timeOrigin) / 1000")


def page_once(browser, base: str, state: dict) -> dict[str, float]:
    """One run on the search page: seconds from the submit to the results page received
    and to its DOMContentLoaded (its deferred scripts have run: the play buttons work), from
    the click on part 1 (made by the probe right after) to its first frame, and the whole
    wait, submit to first frame."""
    with cold_page(browser, state) as page:
        page.goto(base + "/")
        page.fill("input[name=session]", SESSION)
        page.press("input[name=session]", "Enter")
        # The probe clicks part 1 itself once the results page's scripts have run.
        first_frame_wait(page)
        stamps = page.evaluate(
            f"""() => {{
                const results = performance.getEntriesByType('navigation')[0];
                return {{
                    submit: Number(sessionStorage.getItem('benchSubmit')),
                    response: performance.timeOrigin + results.responseEnd,
                    ready: performance.timeOrigin + results.domContentLoadedEventEnd,
                    click: window.__benchClick,
                    frame: {FIRST_FRAME},
                }};
            }}"""
        )
    response = (stamps["response"] - stamps["submit"]) / 1000
    results = (stamps["ready"] - stamps["submit"]) / 1000
    played = (stamps["frame"] - stamps["click"]) / 1000
    return {
        "response": response,
        "results": results,
        "played": played,
        "waited": (stamps["frame"] - stamps["submit"]) / 1000,
    }


def browser_first_frame_method(browser) -> str:
    with cold_page(browser) as page:
        has = page.evaluate("'requestVideoFrameCallback' in HTMLVideoElement.prototype")
    return "requestVideoFrameCallback" if has else "the 'playing' event"


def median_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[math.ceil(0.95 * len(ordered)) - 1]


def figures(label: str, values: list[float]) -> str:
    median, p95 = median_p95(values)
    return f"{label:<36} median {median * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="counted runs of each")
    parser.add_argument("--warmup", type=int, default=3, help="uncounted runs of each first")
    parser.add_argument(
        "--anchor-only", action="store_true", help="only the anchor (no search page needed)"
    )
    parser.add_argument(
        "--warm",
        action="store_true",
        help="each kind's runs in one browser context: scripts and styles cached, as for a"
        " reviewer who has used the page before (default: a new context, all cold)",
    )
    args = parser.parse_args()

    recording = recording_cached()
    env = bench_env(DATABASE)
    database_create(DATABASE, fresh=False)
    bench_prepare(env)
    os.environ.update(env)
    import django

    django.setup()
    from storage.links import video_link
    from storage.nginx import nginx_conf_render

    with scratch_dir("opvideo-bench-first-frame-") as base:
        port = free_port()
        parts = fill(media=base / "storage", recording=recording, nginx_port=port)
        conf = nginx_conf_render(
            zone=parts[0].zone,
            listen_port=port,
            access_log="/dev/null",
            error_log=str(base / "nginx-error.log"),
            pid_file=str(base / "nginx.pid"),
            temp_dir=str(base / "nginx" / "temp"),
            # The files are world-readable here; a storage host's nginx has the storage group.
            worker_user="nobody",
            worker_group="nogroup",
        )
        anchor, page = [], []
        with (
            nginx_running(conf=conf, workdir=base / "nginx", port=port),
            gunicorn(env) as app,
            chromium() as browser,
            bare_page_server(base / "bare") as bare,
        ):
            state = None if args.anchor_only else signed_in_state(browser, app)
            method = browser_first_frame_method(browser)
            runner = browser
            if args.warm:
                runner = {
                    "anchor": browser.new_context(),
                    "page": browser.new_context(storage_state=state),
                }
                for context in runner.values():
                    context.add_init_script(PROBE)
            for n in range(args.warmup + args.runs):
                # A fresh link each run, as the play endpoint makes one each time.
                seconds = anchor_once(runner, bare, video_link(video=parts[0]))
                if n >= args.warmup:
                    anchor.append(seconds)
                if not args.anchor_only:
                    timings = page_once(runner, app, state or {})
                    if n >= args.warmup:
                        page.append(timings)

    atoms = top_level_atoms(recording)
    moov = next((offset, size) for kind, offset, size in atoms if kind == "moov")
    size_mb = recording.stat().st_size / 1e6
    print(
        f"recording: {MINUTES} min, {WIDTH}x{HEIGHT} {FPS} fps H.264 + AAC, {size_mb:.1f} MB;"
        f" atoms {' '.join(kind for kind, _o, _s in atoms)}; moov {moov[1] / 1000:.0f} kB"
        f" at byte {moov[0]:,}"
    )
    print(
        f"runs: {args.runs} of each after {args.warmup} uncounted, alternating, "
        + (
            "in one context per kind (scripts and styles cached)"
            if args.warm
            else "each in a new context (cold cache)"
        )
        + f"; first frame by {method}"
    )
    print(figures("anchor: bare page, navigation→frame", anchor))
    if args.anchor_only:
        return
    print(figures("page: submit→results page received", [t["response"] for t in page]))
    print(figures("page: submit→results ready", [t["results"] for t in page]))
    print(figures("page: click on part 1→frame", [t["played"] for t in page]))
    print(figures("page: submit→first frame", [t["waited"] for t in page]))
    waited = statistics.median(t["waited"] for t in page)
    print(
        f"ratio: page/anchor {waited / statistics.median(anchor):.2f} (target <= {TARGET_RATIO:g});"
        f" page median {waited * 1000:.0f} ms (target < {TARGET_SECONDS * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
