# ruff: noqa: RUF001 - Russian headers and values, Cyrillic letters on purpose
"""The audit's CSV export: opens in a Russian Excel as it is (BOM, ``;``, Russian headers,
local times), exports what the audit list's filters select within a date range, streamed, and
never makes a spreadsheet run what a requester typed."""

import csv
import io
from datetime import datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.http import StreamingHttpResponse
from django.utils import timezone

from search.models import AccessEvent

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/search/accessevent/"
EXPORT = "/admin/search/accessevent/export/"
HEADERS = [
    "время",
    "имя пользователя",
    "действие",
    "через API",
    "ID сессии",
    "ID записи",
    "искомая сессия",
    "по началу ID",
    "искомый проект",
    "поиск с",
    "поиск по",
    "искомая площадка",
    "число результатов",
    "момент заметки",
    "текст заметки",
    "подробности",
    "IP-адрес",
    "браузер",
]
HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
ORDINARY = ["Mozilla/5.0 (Windows NT 10.0) Firefox/128.0", "", "a=b+c-d@e", "'already quoted"]


def body(response) -> str:
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="opvideo-audit-')
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")  # the UTF-8 BOM Excel needs
    return raw.decode("utf-8")[1:]


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def selected(admin_client) -> list[list[str]]:
    response = admin_client.post(
        CHANGELIST,
        {"action": "export_csv", "_selected_action": [e.pk for e in AccessEvent.objects.all()]},
    )
    return rows(body(response))


def local(*args) -> datetime:
    return timezone.make_aware(datetime(*args), timezone.get_current_timezone())


def test_cells_a_spreadsheet_would_run_start_with_a_quote(admin_client):
    for n, agent in enumerate(HOSTILE + ORDINARY):
        AccessEvent.objects.create(
            username=f"user{n}", action="view", user_agent=agent, detail=agent
        )
    header, *lines = selected(admin_client)
    found = {line[1]: dict(zip(header, line, strict=True)) for line in lines}
    for n, agent in enumerate(HOSTILE):
        row = found[f"user{n}"]
        assert row["браузер"] == "'" + agent
        assert row["подробности"] == "'" + agent
    for n, agent in enumerate(ORDINARY, start=len(HOSTILE)):
        row = found[f"user{n}"]
        assert row["браузер"] == agent
        assert row["подробности"] == agent
        assert row["действие"] == "просмотр"
        assert row["через API"] == "нет"


def test_the_file_is_what_a_russian_excel_expects(admin_client):
    awkward = 'Отдел «Продажи»; "VIP"\nвторая строка'
    AccessEvent.objects.create(
        at=local(2026, 3, 5, 9, 7, 3),
        username="иванов",
        action=AccessEvent.Action.SEARCH,
        via_api=True,
        query={
            "session": "ABC123",
            "match": "prefix",
            "project": "77",
            "from": "2026-03-01",
            "to": "2026-03-04",
            "zone": "kursk",
        },
        result_count=12,
        detail=awkward,
        remote_addr="10.0.0.5",
    )
    response = admin_client.post(
        CHANGELIST,
        {"action": "export_csv", "_selected_action": [AccessEvent.objects.get().pk]},
    )
    text = body(response)
    assert '"Отдел «Продажи»; ""VIP""\nвторая строка"' in text  # quoted, quotes doubled
    header, line = rows(text)
    assert header == HEADERS
    assert line == [
        "05.03.2026 09:07:03",
        "иванов",
        "поиск",
        "да",
        "",
        "",
        "ABC123",
        "да",  # "match": "prefix": the id's beginning, not the whole id
        "77",
        "01.03.2026",
        "04.03.2026",
        "kursk",
        "12",
        "",
        "",
        awkward,
        "10.0.0.5",
        "",
    ]


def staff(*, perms: list[str]):
    user = get_user_model().objects.create_user("auditor", password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    return user


def test_the_export_needs_the_export_permission(client):
    client.force_login(staff(perms=["view_accessevent"]))
    assert client.get(EXPORT).status_code == 403
    days = {"date_from": "2026-01-01", "date_to": "2026-01-02"}
    assert client.post(EXPORT, days).status_code == 403
    assert "export-link" not in client.get(CHANGELIST).content.decode()


def test_the_export_link_carries_the_lists_filters(client):
    client.force_login(staff(perms=["view_accessevent", "export_accessevent"]))
    page = client.get(CHANGELIST, {"action__exact": "download"}).content.decode()
    assert f'href="{EXPORT}?action__exact=download"' in page
    form = client.get(EXPORT + "?action__exact=download")
    assert form.status_code == 200
    assert 'name="date_from"' in form.content.decode()


@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [("2026-01-02", "2026-01-01"), ("2024-12-31", "2026-01-01"), ("", "2026-01-01")],
)
def test_a_bad_range_shows_the_form_again(admin_client, date_from, date_to):
    response = admin_client.post(EXPORT, {"date_from": date_from, "date_to": date_to})
    assert response.status_code == 200
    assert not isinstance(response, StreamingHttpResponse)
    assert "errorlist" in response.content.decode()


def test_thousands_of_rows_of_the_filtered_range_stream_out(admin_client):
    first = local(2026, 2, 1, 0, 0, 0)
    wanted = [
        AccessEvent(
            at=first + timedelta(minutes=n),
            username=f"оператор{n}",
            action=AccessEvent.Action.DOWNLOAD,
            session_id=f"S{n:05d}",
        )
        for n in range(3500)
    ]
    other = [
        # Outside the days asked for, on either side, or of another action.
        AccessEvent(at=first - timedelta(seconds=1), username="before", action="download"),
        AccessEvent(at=local(2026, 2, 4, 0, 0, 0), username="after", action="download"),
        AccessEvent(at=first + timedelta(hours=1), username="viewer", action="view"),
    ]
    AccessEvent.objects.bulk_create(wanted + other)
    response = admin_client.post(
        EXPORT + "?action__exact=download",
        {"date_from": "2026-02-01", "date_to": "2026-02-03"},
    )
    header, *lines = rows(body(response))
    assert header == HEADERS
    assert len(lines) == 3500
    assert [line[1] for line in lines] == [f"оператор{n}" for n in range(3500)]
    assert lines[0][0] == "01.02.2026 00:00:00"
    assert lines[-1][0] == (first + timedelta(minutes=3499)).strftime("%d.%m.%Y %H:%M:%S")
    assert {line[2] for line in lines} == {"скачивание"}


def test_a_note_written_and_deleted_is_exported_whole(admin_client):
    from search.actors import Actor
    from search.services import video_note_add, video_note_delete
    from tests.factories import make_video, make_zone

    qa = get_user_model().objects.create_user("qa", password="x-Pass-12345")
    video = make_video(zone=make_zone(name="kursk"))
    text = "Оператор не представился; " + "долго " * 60
    note = video_note_add(actor=Actor(user=qa), video=video, at_seconds=83.25, text=text)
    video_note_delete(actor=Actor(user=qa), note=note)

    header, *lines = selected(admin_client)
    found = [dict(zip(header, line, strict=True)) for line in lines]
    assert len(found) == 2
    for row in found:  # the deleted note's text too, whole: the audit is where it stays
        assert (row["момент заметки"], row["текст заметки"]) == ("1:23", text.strip())
        assert row["по началу ID"] == ""
