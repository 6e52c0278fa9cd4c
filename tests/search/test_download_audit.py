"""Every download goes through the audited download view: the page's button, the API's
``download_url``, and nothing else (a play link cannot be made into a download link)."""

import re
import urllib.parse
from collections import Counter

import pytest
from django.contrib.auth.models import User

from search.models import AccessEvent
from search.services import api_token_issue
from storage.links import LinkCheck, link_check
from tests.factories import make_video, make_zone, session_id

pytestmark = pytest.mark.django_db

SESSION = session_id(424_242)


@pytest.fixture
def video():
    return make_video(zone=make_zone(name="kursk"), session_id=SESSION, file_name="op1/call.mp4")


@pytest.fixture
def operator():
    return User.objects.create_user("operator", password="pw-operator-1")


def audit_kinds() -> Counter:
    """The recordings' events (a token's issue is audited too, but is no access)."""
    events = AccessEvent.objects.exclude(action=AccessEvent.Action.TOKEN_ISSUE)
    return Counter(events.values_list("action", flat=True))


def assert_signed_download_link(*, location: str, video) -> None:
    """The redirect goes to the zone's link signed *as a download*, not to a play link."""
    parts = urllib.parse.urlsplit(location)
    assert parts.netloc == f"{video.zone.public_address}:88"
    query = urllib.parse.parse_qs(parts.query)
    assert query["download"] == ["1"]
    common = dict(
        uri=urllib.parse.unquote(parts.path),
        md5=query["md5"][0],
        expires=query["expires"][0],
        secret=video.zone.link_secret,
    )
    assert link_check(**common, download="1") is LinkCheck.VALID
    assert link_check(**common, download="") is LinkCheck.BAD


def test_pages_offer_download_only_through_the_audited_view(client, operator, video):
    client.force_login(operator)
    for page in (client.get("/", {"session": SESSION}), client.get(f"/videos/{video.pk}/")):
        html = page.content.decode()
        assert "download=" not in html  # no signed download link on any page
        hrefs = re.findall(r'href="([^"]*)"', html)
        assert f"/videos/{video.pk}/download/" in hrefs

    response = client.get(f"/videos/{video.pk}/download/")
    assert response.status_code == 302
    assert_signed_download_link(location=response["Location"], video=video)
    event = AccessEvent.objects.get(action="download")
    assert (event.video_id, event.username, event.via_api) == (video.pk, "operator", False)


def test_api_download_url_is_the_audited_view_and_takes_the_token(client, operator, video):
    _, key = api_token_issue(user=operator, label="crm")
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    body = client.get("/api/videos/", {"session": SESSION}, **auth).json()
    (row,) = body["results"]
    assert "download=" not in str(body)
    assert row["download_url"] == f"http://testserver/videos/{video.pk}/download/"

    response = client.get(urllib.parse.urlsplit(row["download_url"]).path, **auth)
    assert response.status_code == 302
    assert_signed_download_link(location=response["Location"], video=video)
    event = AccessEvent.objects.get(action="download")
    assert (event.video_id, event.username, event.via_api) == (video.pk, "operator", True)


def test_download_view_refuses_without_credentials_and_audits_nothing(client, video):
    anonymous = client.get(f"/videos/{video.pk}/download/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login/?next=")
    wrong = client.get(f"/videos/{video.pk}/download/", HTTP_AUTHORIZATION="Token nope")
    assert wrong.status_code == 401
    assert not AccessEvent.objects.filter(action="download").exists()


def test_every_download_path_is_audited_as_a_download(client, operator, video):
    _, key = api_token_issue(user=operator, label="crm")
    client.force_login(operator)
    client.get(f"/videos/{video.pk}/")  # a view, not a download
    client.get(f"/videos/{video.pk}/download/")  # the page's button
    client.logout()
    api = client.get("/api/videos/", {"session": SESSION}, HTTP_AUTHORIZATION=f"Token {key}")
    download_url = api.json()["results"][0]["download_url"]
    client.get(download_url, HTTP_AUTHORIZATION=f"Token {key}")  # the API's download_url

    # The API search records its linked result as viewed too: two views, two downloads.
    assert audit_kinds() == Counter({"view": 2, "download": 2, "search": 1})
