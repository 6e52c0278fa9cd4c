"""The recording's page: what the call was, its parts in order for the reviewer, its
retention, and holds with their trail (who, when, why; lifting needs a reason and a
confirmation), on MariaDB."""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone

from search.models import AccessEvent
from storage.models import Video
from storage.retention import retention_today
from tests.factories import make_video, make_zone, session_id

pytestmark = pytest.mark.django_db

CALL = session_id(777_001)


@pytest.fixture
def zone():
    return make_zone(name="kursk", retention_days=30)


@pytest.fixture
def call(zone):
    """A transferred call: op102's leg was registered first, but op101's began first."""
    second = make_video(
        zone=zone,
        session_id=CALL,
        file_name="op102/2026-11-27_10-21-40.mp4",
        recording_date=date(2026, 11, 27),
        started_at=datetime(2026, 11, 27, 7, 21, 40, tzinfo=UTC),  # 10:21:40 in Moscow
        duration=95.0,
        operator="op102",
        width=1920,
        height=1080,
        codec="h264",
    )
    first = make_video(
        zone=zone,
        session_id=CALL,
        file_name="op101/2026-11-27_10-15-02.mp4",
        recording_date=date(2026, 11, 27),
        started_at=datetime(2026, 11, 27, 7, 15, 2, tzinfo=UTC),
        duration=381.5,
        operator="op101",
        width=1280,
        height=720,
        codec="h264",
    )
    return first, second


@pytest.fixture
def qa(client, settings):
    user = User.objects.create_user("qa", password="pw-qa-1")
    user.groups.add(Group.objects.get_or_create(name=settings.OPVIDEO_HOLD_GROUP)[0])
    client.force_login(user)
    return user


def reviewer_parts(html: str) -> list[dict]:
    found = re.search(r'<script type="application/json" id="reviewer-parts">(.*?)</script>', html)
    return json.loads(found.group(1))


def test_the_page_says_what_the_call_was_and_plays_its_parts_in_order(client, operator, call):
    first, second = call
    response = client.get(f"/videos/{first.pk}/")
    html = response.content.decode()
    assert "<title>Звонок 27.11.2026, 10:15 · op101 · OPVideo</title>" in html
    assert "<h1>Звонок 27.11.2026, 10:15 · op101</h1>" in html
    assert "op101/2026-11-27_10-15-02.mp4" in html
    assert "6:21" in html and "1280\u00d7720" in html and "h264" in html
    kept = date(2026, 11, 27) + timedelta(days=30)
    if kept >= retention_today():
        assert f"Хранится до {kept:%d.%m.%Y}" in html
    else:
        assert f"Срок хранения истёк {kept:%d.%m.%Y}" in html

    parts = reviewer_parts(html)
    assert [p["id"] for p in parts] == [first.pk, second.pk]
    assert parts[0]["label"] == "Часть 1 из 2 · op101 · 27.11.2026 10:15:02"
    assert parts[1]["label"] == "Часть 2 из 2 · op102 · 27.11.2026 10:21:40"
    # This part's link came with the page (its view is audited); the other's is asked for
    # when it is played.
    assert parts[0]["url"].startswith("http://") and parts[1]["url"] is None
    assert all(p["playable"] for p in parts)
    assert parts[1]["notes"] == f"/videos/{second.pk}/notes/"
    assert set(parts[0]) >= {"poster", "sprite", "preview", "duration", "page", "play"}
    assert 'data-start-index="0"' in html
    views = AccessEvent.objects.filter(action="view")
    assert list(views.values_list("video_id", flat=True)) == [first.pk]

    on_second = client.get(f"/videos/{second.pk}/?t=1:05").content.decode()
    assert 'data-start-index="1"' in on_second
    assert 'data-start-time="65.0"' in on_second
    assert 'data-start-time="0"' in client.get(f"/videos/{second.pk}/?t=junk").content.decode()


def test_a_deleted_recording_says_when_and_is_not_playable(client, operator, call):
    second = call[1]
    Video.objects.filter(pk=second.pk).update(delete_date=date(2026, 12, 30))
    html = client.get(f"/videos/{second.pk}/").content.decode()
    assert "Удалена 30.12.2026" in html
    parts = reviewer_parts(html)
    assert parts[1]["playable"] is False and parts[1]["url"] is None
    assert parts[1]["label"].endswith("удалена")
    assert not AccessEvent.objects.filter(action="view").exists()


def test_the_play_answer_carries_previews_and_the_notes_url(client, operator, call):
    body = client.post(f"/videos/{call[0].pk}/play/").json()
    assert body["notes"] == f"/videos/{call[0].pk}/notes/"
    # No previews are linked until the zone worker's are wired (storage.links).
    assert (body["poster"], body["sprite"], body["preview"]) == (None, None, None)


def test_a_hold_keeps_its_trail_and_lifting_needs_a_reason_and_a_confirmation(client, qa, call):
    video = call[0]
    url = f"/videos/{video.pk}/hold/"
    before = timezone.now()
    client.post(url, {"hold": "1", "reason": "жалоба клиента"})
    video.refresh_from_db()
    assert video.legal_hold and video.legal_hold_by == "qa"
    assert before <= video.legal_hold_at <= timezone.now()

    page = client.get(f"/videos/{video.pk}/").content.decode()
    assert "жалоба клиента" in page and ">qa<" in page
    assert 'name="confirm"' in page and "будет удалена" in page

    for forged in (
        {"hold": "0", "reason": "больше не нужна"},  # no confirmation
        {"hold": "0", "confirm": "1"},  # no reason
        {"hold": "0", "reason": "  ", "confirm": "1"},
        {"hold": "2", "reason": "x", "confirm": "1"},  # not a choice
    ):
        response = client.post(url, forged, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0].endswith("#hold")
        video.refresh_from_db()
        assert video.legal_hold, forged
    messages = [str(m) for m in response.context["messages"]]
    assert messages, "a refusal says why"

    again = client.post(url, {"hold": "1", "reason": "ещё раз"}, follow=True)
    already = " ".join(str(m) for m in again.context["messages"])
    assert "уже" in already
    # Said once, in the hold card, not again at the top of the page.
    assert again.content.decode().count(already) == 1

    client.post(url, {"hold": "0", "reason": "претензия снята", "confirm": "1"})
    video.refresh_from_db()
    assert not video.legal_hold
    assert (video.legal_hold_reason, video.legal_hold_by, video.legal_hold_at) == ("", "", None)
    trail = list(
        AccessEvent.objects.filter(action__startswith="hold")
        .order_by("id")
        .values_list("action", "username", "detail")
    )
    assert trail == [
        ("hold_place", "qa", "жалоба клиента"),
        ("hold_lift", "qa", "претензия снята"),
    ]
    page = client.get(f"/videos/{video.pk}/").content.decode()
    history = page[page.index("История удержаний") :]
    assert history.index("снято") < history.index("установлено")  # newest first
    assert "претензия снята" in history and "жалоба клиента" in history


def test_the_trail_is_this_recordings_only(client, qa, call):
    first, second = call
    client.post(f"/videos/{second.pk}/hold/", {"hold": "1", "reason": "вторая часть"})
    page = client.get(f"/videos/{first.pk}/").content.decode()
    assert "вторая часть" not in page
    assert "Удержаний этой записи не было" in page


def test_who_may_not_hold_is_told_who_can(client, operator, call, settings):
    group = Group.objects.create(name=settings.OPVIDEO_HOLD_GROUP)
    for n, (first, last) in enumerate([("Анна", "Смирнова"), ("Борис", "Орлов")]):
        User.objects.create_user(f"qa{n}", first_name=first, last_name=last).groups.add(group)
    by_permission = User.objects.create_user("lawyer", first_name="Дарья", last_name="Юрина")
    by_permission.user_permissions.add(Permission.objects.get(codename="manage_legal_hold"))
    User.objects.create_user("gone", first_name="Ушёл", is_active=False).groups.add(group)
    User.objects.create_superuser("root", password="Root-pass-1")

    html = client.get(f"/videos/{call[0].pk}/").content.decode()
    assert 'name="reason"' not in html
    who = html[html.index('class="hint hold-who"') :][:600]
    assert "Борис Орлов, Анна Смирнова, Дарья Юрина" in who
    assert settings.OPVIDEO_HOLD_GROUP in who
    assert "Ушёл" not in who and "root" not in who

    for n in range(5):
        User.objects.create_user(f"more{n}").groups.add(group)
    html = client.get(f"/videos/{call[0].pk}/").content.decode()
    assert "и ещё 3 человека" in html


def test_operator_may_not_lift_a_hold(client, operator, call):
    video = call[0]
    Video.objects.filter(pk=video.pk).update(legal_hold=True, legal_hold_reason="суд")
    response = client.post(
        f"/videos/{video.pk}/hold/", {"hold": "0", "reason": "x", "confirm": "1"}
    )
    assert response.status_code == 403
    video.refresh_from_db()
    assert video.legal_hold
    assert not AccessEvent.objects.filter(action__startswith="hold").exists()


def test_an_expired_recording_under_hold_says_lifting_deletes_it_next_purge(client, qa, zone):
    old = make_video(zone=zone, recording_date=retention_today() - timedelta(days=45))
    Video.objects.filter(pk=old.pk).update(legal_hold=True, legal_hold_reason="суд")
    html = client.get(f"/videos/{old.pk}/").content.decode()
    assert "ближайшей ежедневной очистке" in html
