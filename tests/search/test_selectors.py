"""The search as a selector, without a request: filters in, a page of rows with their play
links out, and the API's JSON of that page."""

import urllib.parse
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from search.selectors import VideoFilters, search_page_json, video_search_page
from tests.factories import make_video, make_zone, session_id

pytestmark = pytest.mark.django_db

CALL = session_id(777_000)


@pytest.fixture
def call():
    """One call's two recordings, the older one deleted, among others of the same project."""
    zone = make_zone(name="kursk")
    live = make_video(
        zone=zone, session_id=CALL, file_name="op1/live.mp4", recording_date=date(2026, 3, 2)
    )
    gone = make_video(
        zone=zone,
        session_id=CALL,
        file_name="op1/gone.mp4",
        recording_date=date(2026, 3, 1),
        delete_date=date(2026, 3, 20),
    )
    for n in range(5):
        make_video(zone=zone, recording_date=date(2026, 2, 1) + timedelta(days=n))
    return live, gone


def test_a_calls_parts_come_in_order_and_only_the_api_gets_links(call):
    live, gone = call
    listed = video_search_page(
        filters=VideoFilters(session_id=CALL), page_number=None, page_size=20
    )
    # One call: its parts by start (here: recording date), numbered.
    assert [(r.video.pk, r.part, r.parts) for r in listed.rows] == [
        (gone.pk, 1, 2),
        (live.pk, 2, 2),
    ]
    assert [r.index for r in listed.rows] == [0, 1]
    assert listed.count == 2
    assert [r.play_url for r in listed.rows] == [None, None]  # the page signs nothing
    assert listed.linked == []
    found = video_search_page(
        filters=VideoFilters(session_id=CALL), page_number=None, page_size=20, links=True
    )
    assert found.rows[1].play_url and "md5=" in found.rows[1].play_url
    assert found.rows[0].play_url is None  # deleted: nothing to watch
    assert found.linked == [live]  # what the audit records as viewed
    # Zones come attached: reading one costs no query.
    with CaptureQueriesContext(connection) as ctx:
        assert {row.video.zone.name for row in found.rows} == {"kursk"}
    assert not ctx.captured_queries


def test_pages_and_the_count_beyond_the_first_page(call):
    dated = VideoFilters(date_from=date(2026, 2, 1), date_to=date(2026, 3, 31))
    first = video_search_page(filters=dated, page_number="1", page_size=3)
    last = video_search_page(filters=dated, page_number="3", page_size=3)
    assert (first.count, first.page.paginator.num_pages) == (7, 3)
    # Newest call first; the call's two parts together, in order.
    assert [r.video.recording_date for r in first.rows] == [
        date(2026, 3, 1),
        date(2026, 3, 2),
        date(2026, 2, 5),
    ]
    assert [r.video.recording_date for r in last.rows] == [date(2026, 2, 1)]
    # A page number out of range or not a number is the last or the first page, not an error.
    assert video_search_page(filters=dated, page_number="99", page_size=3).page.number == 3
    assert video_search_page(filters=dated, page_number="x", page_size=3).page.number == 1


def test_a_search_within_one_page_needs_no_count_query(call):
    def counts(filters) -> int:
        with CaptureQueriesContext(connection) as ctx:
            video_search_page(filters=filters, page_number=None, page_size=20)
        return sum("COUNT(" in q["sql"].upper() for q in ctx.captured_queries)

    assert counts(VideoFilters(session_id=CALL)) == 0
    assert counts(VideoFilters(date_from=date(2026, 1, 1))) == 0  # 7 rows: one page
    many = VideoFilters(date_from=date(2026, 1, 1))
    with CaptureQueriesContext(connection) as ctx:
        found = video_search_page(filters=many, page_number=None, page_size=5)
    assert found.count == 7
    assert sum("COUNT(" in q["sql"].upper() for q in ctx.captured_queries) == 1


def test_no_match_is_an_empty_page(call):
    found = video_search_page(
        filters=VideoFilters(session_id=CALL + "9"), page_number=None, page_size=20
    )
    assert (found.rows, found.count, found.linked) == ([], 0, [])


def test_the_api_json_of_a_page(call):
    live, gone = call
    found = video_search_page(
        filters=VideoFilters(session_id=CALL), page_number=None, page_size=20, links=True
    )
    body = search_page_json(found=found, absolute_url=lambda path: f"https://opvideo.test{path}")
    assert {k: body[k] for k in ("count", "page", "pages")} == {"count": 2, "page": 1, "pages": 1}
    first, second = body["results"]
    url = second.pop("url")
    assert urllib.parse.urlsplit(url).netloc == f"{live.zone.public_address}:88"
    assert second == {
        "id": live.pk,
        "zone": "kursk",
        "session_id": CALL,
        "project_id": live.project_id,
        "file_name": "op1/live.mp4",
        "recording_date": "2026-03-02",
        "started_at": None,
        "duration": None,
        "width": None,
        "height": None,
        "codec": None,
        "operator": None,
        "workstation": "op101",
        "part": 2,
        "parts": 2,
        "size": live.size,
        "legal_hold": False,
        "kept_until": (date(2026, 3, 2) + timedelta(days=live.zone.retention_days)).isoformat(),
        "deleted_on": None,
        "integrity": {"state": "unchecked", "checked_at": None, "hash_origin": None},
        "download_url": f"https://opvideo.test/videos/{live.pk}/download/",
    }
    # A deleted recording: neither a link nor a download, and the day it went.
    assert (first["id"], first["url"], first["download_url"], first["deleted_on"]) == (
        gone.pk,
        None,
        None,
        "2026-03-20",
    )
    assert (first["part"], first["kept_until"]) == (1, None)
