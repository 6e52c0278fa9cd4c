"""The play endpoint: the only place the pages get a signed play link, and so the audit's
"view". Listing a recording hands out nothing."""

import urllib.parse
from datetime import date

import pytest
from django.contrib.auth.models import User

from search.models import AccessEvent
from storage.links import LinkCheck, link_check
from tests.factories import make_video, make_zone, session_id

pytestmark = pytest.mark.django_db

SESSION = session_id(515_151)


@pytest.fixture
def video():
    return make_video(zone=make_zone(name="kursk"), session_id=SESSION, file_name="op1/call.mp4")


@pytest.fixture
def operator():
    return User.objects.create_user("operator", password="pw-operator-1")


def test_play_hands_a_signed_link_and_audits_one_view(client, operator, video):
    client.force_login(operator)
    response = client.post(f"/videos/{video.pk}/play/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == video.pk
    assert body["page"] == f"/videos/{video.pk}/"
    assert body["download_url"] == f"/videos/{video.pk}/download/"
    parts = urllib.parse.urlsplit(body["url"])
    query = urllib.parse.parse_qs(parts.query)
    verdict = link_check(
        uri=urllib.parse.unquote(parts.path),
        md5=query["md5"][0],
        expires=query["expires"][0],
        secret=video.zone.link_secret,
    )
    assert verdict is LinkCheck.VALID
    views = AccessEvent.objects.filter(action=AccessEvent.Action.VIEW)
    assert list(views.values_list("video_id", "username")) == [(video.pk, "operator")]


def test_play_refuses_get_and_signed_out_callers_and_audits_nothing(client, operator, video):
    assert client.post(f"/videos/{video.pk}/play/").status_code == 401
    client.force_login(operator)
    assert client.get(f"/videos/{video.pk}/play/").status_code == 405
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.VIEW).exists()


def test_play_of_a_deleted_or_missing_recording_says_why(client, operator, video):
    client.force_login(operator)
    video.delete_date = date(2026, 1, 1)
    video.save()
    response = client.post(f"/videos/{video.pk}/play/", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 410
    assert response.json()["error"]
    missing = client.post("/videos/999999/play/")
    assert missing.status_code == 404
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.VIEW).exists()
