"""The video access service: one table of cases, run against the real nginx with the
project's config and against the embedded view of ``make run``. Both must answer alike."""

# ruff: noqa: E501 - the case table reads best one case per line

import http.client
import shutil
import time
import urllib.parse
from dataclasses import dataclass, field

import pytest
from django.test import override_settings

from storage.links import link_token, video_link
from storage.models import Video
from storage.samples import sample_mp4_make
from tests.factories import LINK_SECRET, unsaved_zone
from tests.services.media import NOT_VIDEO, media_tree_make
from tests.services.nginx import nginx_for_zone
from zones.models import Zone

SECRET = LINK_SECRET


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return sample_mp4_make(path=tmp_path_factory.mktemp("sample") / "sample.mp4", seconds=6)


@pytest.fixture(scope="module")
def media(sample):
    tree = media_tree_make(sample=sample)
    yield tree
    shutil.rmtree(tree.base)


def zone_for(media, **extra) -> Zone:
    return unsaved_zone(path_dst=str(media.path_dst), **extra)


@pytest.fixture(scope="module")
def nginx(media, tmp_path_factory):
    zone = zone_for(media, public_address="127.0.0.1")
    with nginx_for_zone(zone=zone, workdir=tmp_path_factory.mktemp("nginx")) as server:
        yield server


@dataclass
class Target:
    """Where a link's path is requested: nginx serves at /, the embedded view under a prefix."""

    host: str
    port: int
    prefix: str = ""
    log: object = None

    def request(self, method: str, path: str, headers: dict | None = None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        conn.request(method, self.prefix + path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return response, body


@pytest.fixture(
    params=["nginx", pytest.param("embedded", marks=pytest.mark.django_db(transaction=True))]
)
def target(request, media):
    if request.param == "nginx":
        server = request.getfixturevalue("nginx")
        return Target("127.0.0.1", server.port)
    # The embedded view reads the zone from the database, through a live server thread.
    live = request.getfixturevalue("live_server")
    zone = zone_for(media)
    zone.save()
    parsed = urllib.parse.urlsplit(live.url)
    overrides = override_settings(OPVIDEO_EMBEDDED_MEDIA=True)
    overrides.enable()
    request.addfinalizer(overrides.disable)
    return Target(parsed.hostname, parsed.port, prefix=f"/media/z/{zone.pk}")


# The cases' links are signed when pytest collects them; on a busy machine the whole suite
# can take longer than ten minutes before they run, so they stay valid for a day.
VALID_FOR = 24 * 3600


def signed(
    uri: str, *, expires: int | None = None, secret: str = SECRET, download: str = ""
) -> str:
    """The request path for ``uri`` (decoded) with a token for ``uri`` (and ``download``)."""
    expires = expires if expires is not None else int(time.time()) + VALID_FOR
    token = link_token(uri=uri, expires=expires, secret=secret, download=download)
    query = {"md5": token, "expires": expires}
    if download:
        query["download"] = download
    return urllib.parse.quote(uri, safe="/") + "?" + urllib.parse.urlencode(query)


def header_values(response, name: str) -> set[str]:
    """The values sent under ``name``. nginx's 416 repeats its `add_header ... always`
    headers (its range filter runs the header filters twice); a repeated value means the
    same to a browser, so values are compared as a set."""
    return {v.strip() for v in (response.getheader(name) or "").split(",") if v.strip()}


@dataclass
class Case:
    name: str
    path: str
    status: set[int]
    method: str = "GET"
    headers: dict = field(default_factory=dict)
    body_of: str | None = None  # the whole file expected
    span: tuple | None = None  # (first, last) expected with 206; negative = from the end


TRAVERSAL_PATHS = [
    "/../outside/secret.mp4",
    "/%2e%2e/outside/secret.mp4",
    "/sub/%2E%2E/%2e%2e/outside/secret.mp4",
    "/sub/../../outside/secret.mp4",
    "//../outside/secret.mp4",
    "/..%2foutside%2fsecret.mp4",
]


def traversal(raw: str) -> str:
    # Even a correctly signed traversal must be refused: sign what the path decodes to.
    decoded = urllib.parse.unquote(raw)
    expires = int(time.time()) + VALID_FOR
    token = link_token(uri=decoded, expires=expires, secret=SECRET)
    return f"{raw}?md5={token}&expires={expires}"


CASES = [
    Case("valid", signed("/plain.mp4"), {200}, body_of="plain.mp4"),
    Case("cyrillic and spaces", signed("/звонок оператора 17.mp4"), {200}, body_of="звонок оператора 17.mp4"),
    Case("CJK", signed("/通话录音 客户.mp4"), {200}, body_of="通话录音 客户.mp4"),
    Case("decomposed (NFD)", signed("/Cafe\u0301 decomposed.mp4"), {200}, body_of="Cafe\u0301 decomposed.mp4"),
    Case("precomposed (NFC)", signed("/Caf\u00e9 decomposed.mp4"), {200}, body_of="Caf\u00e9 decomposed.mp4"),
    Case("url metacharacters", signed("/a+b%c#d.mp4"), {200}, body_of="a+b%c#d.mp4"),
    Case("subdirectory", signed("/sub/inner.mp4"), {200}, body_of="sub/inner.mp4"),
    Case("the zone's type in capitals", signed("/LOUD.MP4"), {200}, body_of="LOUD.MP4"),
    *[Case(f"not a video {name}", signed("/" + name), {404}) for name in NOT_VIDEO],
    Case("not a video, unsigned", "/page.html", {404}),
    Case("tampered token", signed("/plain.mp4").replace("md5=", "md5=A", 1), {403}),
    Case("token of another file", signed("/sub/inner.mp4").replace("/sub/inner.mp4", "/plain.mp4"), {403}),
    Case("expired", signed("/plain.mp4", expires=int(time.time()) - 60), {410}),
    Case("wrong secret", signed("/plain.mp4", secret="another-secret-of-some-length"), {403}),
    Case("missing token", "/plain.mp4?expires=9999999999", {403}),
    Case("missing expiry", "/plain.mp4?md5=" + link_token(uri="/plain.mp4", expires=0, secret=SECRET), {403}),
    Case("no arguments", "/plain.mp4", {403}),
    # The download flag is signed: a play link cannot be turned into an unaudited download.
    Case("play link with download appended", signed("/plain.mp4") + "&download=1", {403}),
    Case("download link", signed("/plain.mp4", download="1"), {200}, body_of="plain.mp4"),
    Case("download link with the flag dropped", signed("/plain.mp4", download="1").replace("&download=1", ""), {403}),
    Case("download flag percent-encoded", signed("/plain.mp4", download="1").replace("download=1", "download=%31"), {403}),
    Case("download flag twice, second empty", signed("/plain.mp4", download="1") + "&download=", {200}, body_of="plain.mp4"),
    Case("play link, download flag after an empty one", signed("/plain.mp4") + "&download=&download=1", {200}, body_of="plain.mp4"),
    *[Case(f"traversal {raw}", traversal(raw), {400, 403, 404}) for raw in TRAVERSAL_PATHS],
    Case("symlink pointing out", signed("/link.mp4"), {403, 404}),
    Case("hidden file", signed("/.hidden.mp4"), {404}),
    Case("directory listing", signed("/sub/"), {403, 404}),
    Case("range first bytes", signed("/plain.mp4"), {206}, headers={"Range": "bytes=0-99"}, span=(0, 99)),
    Case("range middle", signed("/plain.mp4"), {206}, headers={"Range": "bytes=1000-1999"}, span=(1000, 1999)),
    Case("range open end", signed("/plain.mp4"), {206}, headers={"Range": "bytes={last100}-"}, span=(-100, -1)),
    Case("suffix range", signed("/plain.mp4"), {206}, headers={"Range": "bytes=-500"}, span=(-500, -1)),
    Case("unsatisfiable range", signed("/plain.mp4"), {416}, headers={"Range": "bytes=99999999-"}),
    Case("POST", signed("/plain.mp4"), {405}, method="POST"),
    Case("DELETE", signed("/plain.mp4"), {405}, method="DELETE"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_access_case(case, target, media):
    size = len(media.data("plain.mp4"))
    headers = {k: v.format(last100=size - 100) for k, v in case.headers.items()}
    response, body = target.request(case.method, case.path, headers)
    assert response.status in case.status, (response.status, body[:200])
    assert b"SECRET-OUTSIDE-PATH-DST" not in body
    assert b"HIDDEN" not in body
    assert b"inner.mp4" not in body  # no listing
    assert b"ACTIVE" not in body  # nothing but recordings is served
    # Every answer: the browser keeps the type sent, and renders anything sandboxed.
    assert header_values(response, "X-Content-Type-Options") == {"nosniff"}
    assert header_values(response, "Content-Security-Policy") == {"sandbox"}
    if case.body_of:
        assert body == media.data(case.body_of)
        assert response.getheader("Content-Type") == "video/mp4"
        assert response.getheader("Accept-Ranges") == "bytes"
    if case.span:
        data = media.data("plain.mp4")
        first, last = (p if p >= 0 else size + p for p in case.span)
        assert response.getheader("Content-Range") == f"bytes {first}-{last}/{size}"
        assert body == data[first : last + 1]
    if response.status == 416:
        assert response.getheader("Content-Range") == f"bytes */{size}"


def test_head_gives_the_size_without_a_body(target, media):
    response, body = target.request("HEAD", signed("/plain.mp4"))
    assert response.status == 200
    assert body == b""
    assert int(response.getheader("Content-Length")) == len(media.data("plain.mp4"))


def test_download_link_asks_the_browser_to_save_under_the_file_name(target, media):
    name = "звонок оператора 17.mp4"
    response, body = target.request("GET", signed("/" + name, download="1"))
    assert response.status == 200
    disposition = response.getheader("Content-Disposition")
    assert disposition.startswith("attachment")
    encoded = disposition.split("filename*=", 1)[1]
    charset, _, value = encoded.split("'", 2)
    assert charset.lower() == "utf-8"
    assert urllib.parse.unquote(value) == name
    assert body == media.data(name)


def test_plain_link_is_played_not_downloaded(target):
    response, _ = target.request("GET", signed("/plain.mp4"))
    assert response.getheader("Content-Disposition") is None


def test_play_link_with_download_appended_is_refused(target):
    response, body = target.request("GET", signed("/plain.mp4") + "&download=1")
    assert response.status == 403
    assert response.getheader("Content-Disposition") is None
    assert b"ftyp" not in body


def test_an_unsigned_first_download_flag_decides_like_nginx(target):
    # nginx reads the *first* download argument: an empty one first means a play link,
    # played (no attachment) even though a "1" follows.
    response, _ = target.request("GET", signed("/plain.mp4") + "&download=&download=1")
    assert response.status == 200
    assert response.getheader("Content-Disposition") is None


def test_nginx_writes_one_json_line_per_request_without_the_token(nginx):
    target = Target("127.0.0.1", nginx.port)
    path = signed("/sub/inner.mp4")
    target.request("GET", path)
    entries = [e for e in nginx.log_entries() if e["uri"] == "/sub/inner.mp4"]
    assert entries and entries[-1]["status"] == 200
    assert entries[-1]["zone"] == "kursk"
    token = urllib.parse.parse_qs(path.split("?", 1)[1])["md5"][0]
    assert token not in nginx.access_log.read_text()


def test_nginx_hides_its_version(nginx):
    response, _ = Target("127.0.0.1", nginx.port).request("GET", "/plain.mp4")
    assert response.getheader("Server") == "nginx"


def test_links_made_by_the_search_service_are_accepted_by_nginx(nginx, media):
    zone = zone_for(media, public_address="127.0.0.1", public_port=nginx.port)
    for name in ["plain.mp4", "звонок оператора 17.mp4", "a+b%c#d.mp4", "sub/inner.mp4"]:
        url = video_link(video=Video(zone=zone, file_name=name))
        parsed = urllib.parse.urlsplit(url)
        assert (parsed.scheme, parsed.hostname, parsed.port) == ("http", "127.0.0.1", nginx.port)
        response, body = Target("127.0.0.1", nginx.port).request(
            "GET", f"{parsed.path}?{parsed.query}"
        )
        assert response.status == 200, name
        assert body == media.data(name)
        assert response.getheader("Content-Disposition") is None


def test_download_links_made_by_the_search_service_are_accepted_by_nginx(nginx, media):
    zone = zone_for(media, public_address="127.0.0.1", public_port=nginx.port)
    for name in ["plain.mp4", "звонок оператора 17.mp4", "sub/inner.mp4"]:
        url = video_link(video=Video(zone=zone, file_name=name), download=True)
        parsed = urllib.parse.urlsplit(url)
        response, body = Target("127.0.0.1", nginx.port).request(
            "GET", f"{parsed.path}?{parsed.query}"
        )
        assert response.status == 200, name
        assert response.getheader("Content-Disposition").startswith("attachment")
        assert body == media.data(name)
        # The same link without its flag is not a play link: the flag is in the signature.
        stripped = parsed.query.replace("&download=1", "")
        response, _ = Target("127.0.0.1", nginx.port).request("GET", f"{parsed.path}?{stripped}")
        assert response.status == 403, name


def test_no_link_for_deleted_recordings_or_zones_without_an_address(media):
    import datetime

    zone = zone_for(media, public_address="127.0.0.1", public_port=8080)
    assert (
        video_link(video=Video(zone=zone, file_name="x.mp4", delete_date=datetime.date.today()))
        is None
    )
    assert video_link(video=Video(zone=zone_for(media), file_name="x.mp4")) is None
    no_secret = zone_for(media, public_address="127.0.0.1")
    no_secret.link_secret = ""
    assert video_link(video=Video(zone=no_secret, file_name="x.mp4")) is None


def test_link_lifetime_follows_the_setting(media, settings):
    settings.VIDEO_LINK_TTL = 120
    zone = zone_for(media, public_address="v.example.ru", public_scheme="https", public_port=443)
    url = video_link(video=Video(zone=zone, file_name="plain.mp4"))
    assert url.startswith("https://v.example.ru/plain.mp4?")
    expires = int(urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["expires"][0])
    assert 110 <= expires - time.time() <= 121
