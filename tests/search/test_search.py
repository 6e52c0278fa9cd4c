"""The search page, the video page, the audit and the API, against MariaDB."""

import csv
import io
import urllib.parse
from datetime import date, timedelta

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from search.exports import COLUMNS
from search.models import AccessEvent, ApiToken
from search.services import api_token_issue
from storage.models import Video
from tests.factories import make_video, make_zone, session_id

pytestmark = pytest.mark.django_db

TARGET = session_id(999_000)


@pytest.fixture
def zone():
    return make_zone(name="kursk")


@pytest.fixture
def other_zone():
    return make_zone(name="orel")


@pytest.fixture
def many(zone, other_zone):
    """The target call (two recordings, one deleted) among 60 others."""
    videos = [
        make_video(zone=zone, session_id=TARGET, file_name="op1/target.mp4"),
        make_video(
            zone=other_zone,
            session_id=TARGET,
            file_name="op2/target.mp4",
            delete_date=date(2026, 11, 20),
        ),
    ]
    for n in range(60):
        videos.append(
            make_video(
                zone=zone if n % 2 else other_zone,
                session_id=session_id(n),
                project_id="corebo0000000000000000000000aaaa" if n < 45 else None,
                recording_date=date(2026, 1, 1) + timedelta(days=n),
            )
        )
    return videos


def result_ids(response) -> list[int]:
    return [row.video.pk for row in response.context["rows"]]


def test_search_needs_login(client):
    response = client.get("/?session=" + TARGET)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_exact_session_finds_exactly_its_recordings(client, operator, many):
    response = client.get("/", {"session": "  " + TARGET + " "})
    assert response.status_code == 200
    assert sorted(result_ids(response)) == sorted(v.pk for v in many[:2])
    html = response.content.decode()
    # Listed, not linked: no signed link on the page; the player asks for one when played.
    assert "md5=" not in html and "expires=" not in html
    assert html.count('class="play"') == 2
    assert "удалена 20.11.2026" in html  # deleted on, in the Russian date format


def test_part_of_a_session_id_finds_the_ids_starting_with_it(client, operator, many):
    response = client.get("/", {"session": TARGET[:-1]})
    assert sorted(result_ids(response)) == sorted(v.pk for v in many[:2])
    html = response.content.decode()
    assert "показаны записи, ID сессии которых начинается" in html


def test_filters_and_pagination(client, operator, many, other_zone):
    project = "corebo0000000000000000000000AAAA"  # ids are compared lower-cased
    first = client.get("/", {"project": project})
    assert first.context["page"].paginator.count == 45
    assert len(result_ids(first)) == 20
    third = client.get("/", {"project": project, "page": 3})
    assert len(result_ids(third)) == 5
    seen = set(result_ids(first)) | set(
        result_ids(client.get("/", {"project": project, "page": 2}))
    )
    assert len(seen | set(result_ids(third))) == 45

    dated = client.get("/", {"date_from": "2026-01-10", "date_to": "2026-01-19"})
    dates = {Video.objects.get(pk=pk).recording_date for pk in result_ids(dated)}
    assert dates == {date(2026, 1, 1) + timedelta(days=n) for n in range(9, 19)}

    zoned = client.get("/", {"date_from": "2026-01-10", "date_to": "2026-01-19", "zone": "orel"})
    assert {Video.objects.get(pk=pk).zone_id for pk in result_ids(zoned)} == {other_zone.pk}
    assert len(result_ids(zoned)) == 5


@pytest.mark.parametrize(
    "params",
    [
        {"session": ""},
        {"session": "x" * 10_000},
        {"session": "' OR 1=1 --"},
        {"session": '"; DROP TABLE VIDEO; --'},
        {"session": "<script>alert(1)</script>"},
        {"session": "node\x00_0"},
        {"project": "corebo' UNION SELECT"},
        {"date_from": "2026-13-45"},
        {"date_from": "2026-02-01", "date_to": "2026-01-01"},
        {"zone": "nowhere"},
        {"session": TARGET, "match": "regex"},
        {"session": "node_0"},
        {"page": "2"},
    ],
    ids=lambda p: repr(p)[:40],
)
def test_bad_input_is_a_form_error_never_a_500(client, operator, many, params):
    response = client.get("/", params)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors
    assert not response.context.get("rows")
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert Video.objects.count() == len(many)


def test_non_utf8_query_string_is_harmless(client, operator, many):
    response = client.get("/?session=%FF%FE%FD")
    assert response.status_code == 200
    assert response.context["form"].errors


def test_escaped_value_is_shown_back_escaped(client, operator):
    response = client.get("/", {"session": "<b>bold</b>"})
    assert "&lt;b&gt;bold&lt;/b&gt;" in response.content.decode()


def queries_for(client, params) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/", params)
    return len(ctx.captured_queries), len(result_ids(response))


def test_queries_per_page_do_not_grow_with_the_results(client, operator, many):
    # Warm what this process holds, as earlier pages do: the zones, and how the session id
    # column compares (its collation, read once).
    client.get("/", {"date_from": "2026-01-01", "date_to": "2026-12-31"})
    client.get("/", {"session": TARGET})
    one = queries_for(client, {"session": session_id(3)})
    two = queries_for(client, {"session": TARGET})
    full_page = queries_for(client, {"project": "corebo0000000000000000000000aaaa"})
    more_pages = queries_for(client, {"date_from": "2026-01-01", "date_to": "2026-12-31"})
    assert (one[1], two[1], full_page[1], more_pages[1]) == (1, 2, 20, 20)
    assert one[0] == two[0]
    assert full_page[0] == more_pages[0]
    # More than a page: the count by zone (instead of a count), and the numbering of the
    # page's calls (a search by one session id has the whole call on its page already).
    assert full_page[0] == one[0] + 2
    assert one[0] <= 6


def test_search_is_audited_and_listing_is_no_view(client, operator, many):
    client.get("/", {"session": TARGET}, HTTP_USER_AGENT="Firefox/140", REMOTE_ADDR="10.1.2.3")
    search = AccessEvent.objects.get(action="search")
    assert (search.username, search.session_id, search.result_count) == ("operator", TARGET, 2)
    assert search.query == {"session": TARGET}
    assert search.remote_addr == "10.1.2.3"
    assert search.user_agent == "Firefox/140"
    # Nothing was watched: listing hands out no link, so the audit has no view.
    assert not AccessEvent.objects.filter(action="view").exists()
    client.get("/", {"date_from": "2026-01-01", "date_to": "2026-12-31"})
    assert AccessEvent.objects.filter(action="search").count() == 2
    assert not AccessEvent.objects.filter(action="view").exists()


def test_the_page_reads_no_zone_secret(client, operator, many):
    def secret_reads(params) -> int:
        with CaptureQueriesContext(connection) as ctx:
            client.get("/", params)
        return sum("LINK_SECRET" in q["sql"].upper() for q in ctx.captured_queries)

    assert secret_reads({}) == 0
    assert secret_reads({"date_from": "2026-01-01", "date_to": "2026-12-31"}) == 0
    assert secret_reads({"session": TARGET}) == 0
    # The API signs links: both zones' secrets, in one query, the first time only.
    api = "/api/videos/"
    with CaptureQueriesContext(connection) as ctx:
        client.get(api, {"date_from": "2026-01-01", "date_to": "2026-12-31"})
        client.get(api, {"date_from": "2026-01-01", "date_to": "2026-12-31"})
    assert sum("LINK_SECRET" in q["sql"].upper() for q in ctx.captured_queries) == 1


def test_wrong_encryption_key_leaves_the_form_usable(client, operator, zone, other_zone):
    with override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        response = client.get("/")
    assert response.status_code == 200
    assert response.context["zone_names"] == ["kursk", "orel"]


def test_empty_form_is_not_a_search(client, operator):
    response = client.get("/")
    assert response.status_code == 200
    assert not response.context["searched"]
    assert not AccessEvent.objects.exists()


def test_video_page_and_download(client, operator, many):
    video = many[0]
    page = client.get(f"/videos/{video.pk}/")
    assert page.status_code == 200
    assert "<video" in page.content.decode()
    download = client.get(f"/videos/{video.pk}/download/")
    assert download.status_code == 302
    location = urllib.parse.urlsplit(download["Location"])
    assert location.netloc == f"{video.zone.public_address}:88"
    assert urllib.parse.parse_qs(location.query)["download"] == ["1"]
    actions = list(AccessEvent.objects.order_by("id").values_list("action", "video_id"))
    assert actions == [("view", video.pk), ("download", video.pk)]


def test_deleted_recording_has_no_download(client, operator, many):
    assert client.get(f"/videos/{many[1].pk}/download/").status_code == 404
    assert not AccessEvent.objects.filter(action="download").exists()


def test_operator_may_not_place_a_hold(client, operator, many):
    video = many[0]
    response = client.post(f"/videos/{video.pk}/hold/", {"hold": "1", "reason": "court"})
    assert response.status_code == 403
    video.refresh_from_db()
    assert not video.legal_hold
    assert not AccessEvent.objects.filter(action__startswith="hold").exists()


@pytest.mark.parametrize("how", ["group", "permission", "superuser"])
def test_qa_places_and_lifts_a_hold_with_a_reason(client, many, how, settings):
    user = User.objects.create_user("qa", password="pw-qa-1")
    if how == "group":
        user.groups.add(Group.objects.create(name=settings.OPVIDEO_HOLD_GROUP))
    elif how == "permission":
        user.user_permissions.add(Permission.objects.get(codename="manage_legal_hold"))
    else:
        user.is_superuser = True
        user.save()
    client.force_login(user)
    video = many[0]
    page = client.get(f"/videos/{video.pk}/")
    assert 'name="reason"' in page.content.decode()

    no_reason = client.post(f"/videos/{video.pk}/hold/", {"hold": "1", "reason": "  "})
    assert no_reason.status_code == 302
    video.refresh_from_db()
    assert not video.legal_hold

    client.post(f"/videos/{video.pk}/hold/", {"hold": "1", "reason": "претензия клиента"})
    video.refresh_from_db()
    assert video.legal_hold and video.legal_hold_reason == "претензия клиента"
    client.post(f"/videos/{video.pk}/hold/", {"hold": "0", "reason": "отозвана", "confirm": "1"})
    video.refresh_from_db()
    assert not video.legal_hold and video.legal_hold_reason == ""
    holds = list(
        AccessEvent.objects.filter(action__startswith="hold")
        .order_by("id")
        .values_list("action", "detail", "username")
    )
    assert holds == [("hold_place", "претензия клиента", "qa"), ("hold_lift", "отозвана", "qa")]


def test_api_with_session_and_with_token(client, operator, many):
    response = client.get("/api/videos/", {"session": TARGET})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    by_name = {r["file_name"]: r for r in body["results"]}
    assert by_name["op1/target.mp4"]["url"].startswith("http://video")
    target = by_name["op1/target.mp4"]
    assert target["download_url"] == f"http://testserver/videos/{many[0].pk}/download/"
    assert by_name["op2/target.mp4"]["url"] is None
    assert by_name["op2/target.mp4"]["deleted_on"] == "2026-11-20"

    client.logout()
    assert client.get("/api/videos/", {"session": TARGET}).status_code == 401
    _, key = api_token_issue(user=operator, label="crm")
    with_token = client.get("/api/videos/", {"session": TARGET}, HTTP_AUTHORIZATION=f"Token {key}")
    assert with_token.status_code == 200
    assert with_token.json()["count"] == 2
    assert ApiToken.objects.get().last_used_at is not None
    assert AccessEvent.objects.filter(via_api=True, action="search", username="operator").exists()
    wrong = client.get("/api/videos/", {"session": TARGET}, HTTP_AUTHORIZATION="Token nope")
    assert wrong.status_code == 401


def test_api_me_names_the_token_user(client, operator):
    assert client.get("/api/me/").json() == {"username": "operator"}
    client.logout()
    assert client.get("/api/me/").status_code == 401
    _, key = api_token_issue(user=operator, label="crm")
    assert client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {key}").json() == {
        "username": "operator"
    }


def test_revoked_token_is_refused(client, operator, many):
    token, key = api_token_issue(user=operator, label="crm")
    token.revoked = True
    token.save()
    client.logout()
    response = client.get("/api/videos/", {"session": TARGET}, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "params", [{}, {"session": "<x>"}, {"date_from": "yesterday"}, {"session": "a" * 5000}]
)
def test_api_bad_parameters_are_400_with_a_reason(client, operator, params):
    response = client.get("/api/videos/", params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]


def test_audit_is_read_only_in_the_admin_and_exports_csv(admin_client, operator, many, client):
    client.get("/", {"session": TARGET})
    event = AccessEvent.objects.get(action="search")
    listing = admin_client.get("/admin/search/accessevent/")
    assert listing.status_code == 200
    assert admin_client.get(f"/admin/search/accessevent/{event.pk}/delete/").status_code == 403
    change = admin_client.post(f"/admin/search/accessevent/{event.pk}/change/", {"username": "x"})
    assert change.status_code in (302, 403) or "readonly" in change.content.decode()
    event.refresh_from_db()
    assert event.username == "operator"
    exported = admin_client.post(
        "/admin/search/accessevent/",
        {"action": "export_csv", "_selected_action": [e.pk for e in AccessEvent.objects.all()]},
    )
    assert exported.status_code == 200
    text = b"".join(exported.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0] == [str(header) for header, _cell in COLUMNS]
    assert {r[2] for r in rows[1:]} == {str(AccessEvent.Action.SEARCH.label)}
    assert {r[6] for r in rows[1:]} == {TARGET}  # the searched session, a column of its own
    bulk_delete = admin_client.post(
        "/admin/search/accessevent/",
        {"action": "delete_selected", "_selected_action": [event.pk]},
    )
    assert bulk_delete.status_code in (200, 302)
    assert AccessEvent.objects.filter(pk=event.pk).exists()


def test_pages_are_russian_by_default_even_for_an_english_browser(client):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Вход" in page.content.decode()
    assert "Sign in" not in page.content.decode()


def test_english_is_a_choice_that_sticks(client):
    chosen = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert chosen.status_code == 302
    assert "Sign in" in client.get("/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "ru", "next": "/login/"})
    assert "Вход" in client.get("/login/").content.decode()
