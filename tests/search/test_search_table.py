"""The results table: newest call first, a call's parts together and numbered across the
whole call (not just the page), each row's start, length, operator and retention; counts
per zone; no link and no "view" when listing; recent searches; an empty result that says
what was searched and how to widen it."""

import json
import re
from datetime import date, datetime

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from search.actors import Actor
from search.models import AccessEvent
from search.selectors import RECENT_ROWS_READ, VideoFilters, recent_searches, video_search_page
from search.services import access_search_record
from tests.factories import make_video, make_zone, session_id

pytestmark = pytest.mark.django_db

CALL_A = session_id(606_001)  # transferred: op101 at 14:02:40, then op102 at 14:09:13
CALL_B = session_id(606_002)  # another zone, began between A's two parts
CALL_C = session_id(606_003)  # the next morning
NOVEMBER = {"date_from": "2026-11-01", "date_to": "2026-11-30"}


def local(*args) -> datetime:
    return timezone.make_aware(datetime(*args))


@pytest.fixture
def calls():
    kursk = make_zone(name="kursk", retention_days=90)
    demo = make_zone(name="demo", retention_days=30)
    day = date(2026, 11, 26)
    # The second part registered first: the order must come from the start times.
    a2 = make_video(
        zone=kursk,
        session_id=CALL_A,
        file_name="op102/a2.mp4",
        recording_date=day,
        started_at=local(2026, 11, 26, 14, 9, 13),
        duration=3725.2,
        workstation="op102",
        operator="petrova",
    )
    a1 = make_video(
        zone=kursk,
        session_id=CALL_A,
        file_name="op101/a1.mp4",
        recording_date=day,
        started_at=local(2026, 11, 26, 14, 2, 40),
        duration=433.4,
        workstation="op101",
        storage_days=10,
    )
    b = make_video(
        zone=demo,
        session_id=CALL_B,
        file_name="b.mp4",
        recording_date=day,
        started_at=local(2026, 11, 26, 14, 5, 0),
        legal_hold=True,
        legal_hold_reason="claim",
    )
    c = make_video(
        zone=kursk,
        session_id=CALL_C,
        file_name="c.mp4",
        recording_date=date(2026, 11, 27),
        started_at=local(2026, 11, 27, 10, 15, 2),
        delete_date=date(2026, 11, 29),
        integrity_checked_at=local(2026, 11, 28, 3, 0),
        integrity_ok=False,
    )
    return {"a1": a1, "a2": a2, "b": b, "c": c}


def rows_of(found) -> list[tuple]:
    return [(r.video.file_name, r.part, r.parts) for r in found.rows]


def november(page_size: int, page="1"):
    filters = VideoFilters(date_from=date(2026, 11, 1), date_to=date(2026, 11, 30))
    return video_search_page(filters=filters, page_number=page, page_size=page_size)


def test_newest_call_first_its_parts_together_in_order(calls):
    found = november(20)
    assert rows_of(found) == [
        ("c.mp4", 1, 1),
        ("op101/a1.mp4", 1, 2),
        ("op102/a2.mp4", 2, 2),
        ("b.mp4", 1, 1),
    ]
    assert [len(call) for call in found.calls] == [1, 2, 1]
    assert [r.index for r in found.rows] == [0, 1, 2, 3]


def test_parts_are_numbered_across_the_call_not_the_page(calls):
    with CaptureQueriesContext(connection) as ctx:
        first = november(2)
    # c, then a2 (14:09) before b (14:05) and a1 (14:02), which go to the next page.
    assert rows_of(first) == [("c.mp4", 1, 1), ("op102/a2.mp4", 2, 2)]
    assert rows_of(november(2, page="2")) == [("b.mp4", 1, 1), ("op101/a1.mp4", 1, 2)]
    numbering = [q["sql"] for q in ctx.captured_queries if "SESSIONID` IN" in q["sql"]]
    assert len(numbering) == 1  # one query for the page's calls


def test_one_call_on_one_page_is_numbered_without_a_query(calls):
    video_search_page(filters=VideoFilters(session_id=CALL_B), page_number=None, page_size=20)
    with CaptureQueriesContext(connection) as ctx:
        found = video_search_page(
            filters=VideoFilters(session_id=CALL_A), page_number=None, page_size=20
        )
    assert rows_of(found) == [("op101/a1.mp4", 1, 2), ("op102/a2.mp4", 2, 2)]
    assert len(ctx.captured_queries) == 1  # the rows themselves


def test_counts_per_zone_from_the_page_or_one_group_by(calls):
    with CaptureQueriesContext(connection) as ctx:
        whole = november(20)
    assert whole.zone_counts == [("kursk", 3), ("demo", 1)]
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]

    with CaptureQueriesContext(connection) as ctx:
        paged = november(2)
    assert (paged.count, paged.zone_counts) == (4, [("kursk", 3), ("demo", 1)])
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and "GROUP BY" in counts[0].upper()


def test_each_row_says_when_how_long_who_and_until_when(calls, settings):
    rows = {r.video.file_name: r for r in november(20).rows}
    a1, a2, b, c = (rows[n] for n in ("op101/a1.mp4", "op102/a2.mp4", "b.mp4", "c.mp4"))
    # Start in TIME_ZONE (Europe/Moscow), not UTC.
    assert settings.TIME_ZONE == "Europe/Moscow"
    assert a1.start_text == "26.11.2026 14:02:40"
    assert (a1.duration_text, a2.duration_text, b.duration_text) == ("7:13", "1:02:05", "—")
    assert (a1.video.who, a2.video.who) == ("op101", "petrova")  # operator, else workstation
    assert a1.kept_until == date(2026, 12, 6)  # its own 10 days
    assert a2.kept_until == date(2027, 2, 24)  # the zone's 90
    assert b.kept_until is None and b.state_text == "хранится, пока на удержании"
    assert c.state_text == "удалена 29.11.2026"
    assert c.integrity_failed and not a1.integrity_failed
    assert (c.playable, a1.playable) == (False, True)


def test_the_page_lists_without_links_or_views_and_plays_through_the_endpoint(
    client, operator, calls
):
    response = client.get("/", {**NOVEMBER, "zone": ""})
    html = response.content.decode()
    assert "md5=" not in html and "expires=" not in html
    assert not AccessEvent.objects.filter(action="view").exists()
    assert AccessEvent.objects.filter(action="search", result_count=4).count() == 1
    assert html.count("<video") <= 1  # one player for the page, not one per row
    indexes = re.findall(r'<button type="button" class="play" data-part-index="(\d+)"', html)
    assert indexes == ["0", "1", "2", "3"]
    assert html.count("disabled>▶") == 1  # the deleted one cannot be played
    parts = response.context["parts"]
    assert [p["id"] for p in parts] == [r.video.pk for r in response.context["rows"]]
    assert parts[1] == {
        "id": calls["a1"].pk,
        "play": f"/videos/{calls['a1'].pk}/play/",
        "page": f"/videos/{calls['a1'].pk}/",
        "notes": f"/videos/{calls['a1'].pk}/notes/",
        "call": calls["a1"].session_id.lower(),
        "label": "Часть 1 из 2 · op101 · 26.11.2026 14:02:40",
        "poster": None,
        "sprite": None,
        "preview": None,
        "duration": 433.4,
        "playable": True,
        "url": None,
    }
    assert parts[0]["playable"] is False
    json.dumps(parts)  # the reviewer block serialises it
    for text in ("26.11.2026 14:02:40", "7:13", "petrova", "хранится до 06.12.2026"):
        assert text in html
    assert "kursk: 3 · demo: 1" in html
    assert "целостность нарушена" in html and "на удержании" in html
    # Playing one part is then one view.
    assert client.post(f"/videos/{calls['a1'].pk}/play/").status_code == 200
    assert list(AccessEvent.objects.filter(action="view").values_list("video_id", flat=True)) == [
        calls["a1"].pk
    ]


def test_pagination_keeps_every_filter(client, operator, calls, monkeypatch):
    monkeypatch.setattr("search.views.PAGE_SIZE", 2)
    first = client.get("/", {**NOVEMBER, "project": "corebo00000000000ng9hgl5vhtinhmo"})
    html = first.content.decode()
    (next_href,) = re.findall(r'href="\?([^"]*)" rel="next"', html)
    assert next_href == (
        "date_from=2026-11-01&amp;date_to=2026-11-30&amp;"
        "project=corebo00000000000ng9hgl5vhtinhmo&amp;page=2"
    )
    second = client.get("/?" + next_href.replace("&amp;", "&"))
    assert [r.video.file_name for r in second.context["rows"]] == ["b.mp4", "op101/a1.mp4"]


def test_nothing_found_says_what_was_searched_and_how_to_widen(client, operator, calls):
    response = client.get("/", {"session": CALL_A + "9", **NOVEMBER, "zone": "kursk"})
    html = response.content.decode()
    assert response.context["rows"] == []
    said = re.search(r"<strong>Ничего не найдено</strong>: ([^<]*)</p>", html).group(1)
    starting = "ID сессии начинается \N{CYRILLIC SMALL LETTER ES}"
    assert said == (
        f"{starting} {CALL_A}9; записи \N{CYRILLIC SMALL LETTER ES} 01.11.2026 по 30.11.2026; "
        "площадка kursk."
    )
    offers = {o.text: o.link.url for o in response.context["widenings"]}
    shorter = CALL_A.rsplit("_", 1)[0]
    assert offers == {
        "за любые даты": f"/?session={CALL_A}9&match=prefix&zone=kursk",
        "все площадки": f"/?session={CALL_A}9&match=prefix&date_from=2026-11-01&date_to=2026-11-30",
        f"{starting} {shorter}": (
            f"/?session={shorter}&match=prefix&date_from=2026-11-01&date_to=2026-11-30&zone=kursk"
        ),
    }
    for url in offers.values():
        assert url.replace("&", "&amp;") in html
    # Each offer is a search that finds the call.
    wider = client.get(offers[f"{starting} {shorter}"])
    assert {r.video.session_id for r in wider.context["rows"]} == {CALL_A}


def test_recent_searches_newest_first_distinct_at_most_ten(client, operator, calls):
    for n in range(12):
        client.get("/", {"session": session_id(n)})
    client.get("/", {"session": session_id(3).upper()})  # the same search as an older one
    client.get("/", {"session": CALL_A})
    client.get("/", {"session": CALL_A, "page": "2"})  # another page, the same search
    other = User.objects.create_user("other", password="pw-other-1")
    client.force_login(other)
    client.get("/", {"project": "corebo00000000000ng9hgl5vhtinhmo"})
    client.force_login(operator)
    # The API's searches are an integration's, not the person's.
    client.get("/api/videos/", {"session": CALL_B})

    page = client.get("/", NOVEMBER)
    recent = page.context["recent"]
    assert [link.query.get("session") for link in recent] == [
        CALL_A,
        session_id(3).upper(),
        *(session_id(n) for n in (11, 10, 9, 8, 7, 6, 5, 4)),
    ]
    html = page.content.decode()
    assert f'href="/?session={CALL_A}"' in html
    # The search just made is not offered again as a recent one.
    again = client.get("/", {"session": CALL_A}).context["recent"]
    assert CALL_A not in [link.query.get("session") for link in again]
    assert again[0].query == {"from": "2026-11-01", "to": "2026-11-30"}
    assert again[0].short == "01.11.2026\N{EN DASH}30.11.2026"


def test_recent_searches_read_the_users_index_newest_rows_only(operator):
    # Others' searches and this user's other rows: what the index keeps out of the way.
    other = User.objects.create_user("other", password="pw-other-1")
    AccessEvent.objects.bulk_create(
        [AccessEvent(user=other, username="other", action="search") for _ in range(2000)]
        + [AccessEvent(user=operator, username="operator", action="view") for _ in range(1000)]
    )
    for n in range(RECENT_ROWS_READ + 5):
        access_search_record(
            actor=Actor(user=operator),
            query={"session": session_id(n % 3)},
            result_count=1,
        )
    with CaptureQueriesContext(connection) as ctx:
        recent = recent_searches(user=operator)
    last = RECENT_ROWS_READ + 4  # newest first, from the last row written
    assert [link.query["session"] for link in recent] == [
        session_id((last - k) % 3) for k in range(3)
    ]
    (sql,) = [q["sql"] for q in ctx.captured_queries]
    assert f"LIMIT {RECENT_ROWS_READ}" in sql
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        names = [c[0] for c in cursor.description]
        plan = dict(zip(names, cursor.fetchone(), strict=True))
    assert plan["key"] == "ACCESS_USER_ACTION_AT_IDX", plan
    assert plan["type"] == "ref", plan
