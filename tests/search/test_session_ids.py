"""A session id is found in whatever case it was pasted, whole or by its beginning, always
through the SESSIONID index: on MariaDB (EXPLAIN) and on SQLite, which ``make run`` uses."""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.utils import ConnectionHandler

from search.selectors import VideoFilters, video_search
from search.session_ids import (
    session_id_collation,
    session_id_folds_case,
    session_id_q,
    session_id_shorter_prefix,
)
from storage.models import Video
from tests.factories import make_video, make_zone, session_id
from zones.models import Zone

pytestmark = pytest.mark.django_db

CALL = session_id(808_000)  # node_0_domain_0_nauss_0_1629934106_980352


@pytest.fixture
def zone():
    return make_zone(name="kursk")


@pytest.fixture
def calls(zone):
    """A two-part call, a call whose id extends the first one's, and a few thousand others:
    enough rows that a full scan would show in EXPLAIN as what it is."""
    parts = [
        make_video(zone=zone, session_id=CALL, file_name="op1/a.mp4"),
        make_video(zone=zone, session_id=CALL, file_name="op2/a.mp4"),
    ]
    longer = make_video(zone=zone, session_id=CALL + "7", file_name="op3/b.mp4")
    Video.objects.bulk_create(
        Video(
            zone=zone,
            session_id=session_id(n),
            file_name=f"bulk/{n}.mp4",
            recording_date=date(2026, 1, 1) + timedelta(days=n % 300),
        )
        for n in range(3000)
    )
    return parts, longer


def found(filters: VideoFilters) -> set[int]:
    return {v.pk for v in video_search(filters=filters)}


def test_the_column_ignores_case_in_mariadb_and_the_search_relies_on_it():
    collation = session_id_collation(connection=connection)
    assert collation.startswith("utf8mb4_") and collation.endswith("_ci"), collation
    assert session_id_folds_case() is True


@pytest.mark.parametrize("folds_case", [True, False], ids=["collation", "spellings"])
def test_any_case_and_a_beginning_find_the_call(calls, folds_case):
    (first, second), longer = calls

    def search(value, prefix=False):
        q = session_id_q(value=value, prefix=prefix, folds_case=folds_case)
        return set(Video.objects.filter(q).values_list("pk", flat=True))

    call = {first.pk, second.pk}
    assert search(CALL) == call
    assert search(CALL.upper()) == call
    if folds_case:  # the collation ignores any mix of cases; spellings cover one case
        assert search(CALL[:4].upper() + CALL[4:]) == call
    assert search(CALL[:-3], prefix=True) == call | {longer.pk}
    assert search(CALL[:-3].upper(), prefix=True) == call | {longer.pk}
    # The beginning is literal: _ is no LIKE wildcard.
    assert search(CALL.replace("_", "x")[:12], prefix=True) == set()
    assert search(CALL + "9", prefix=True) == set()


def explain(queryset) -> list[dict]:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.mark.parametrize("folds_case", [True, False], ids=["collation", "spellings"])
@pytest.mark.parametrize(
    "value, prefix", [(CALL, False), (CALL.upper(), False), (CALL[:-4].upper(), True)]
)
def test_explain_shows_the_session_index_not_a_scan(calls, folds_case, value, prefix):
    condition = session_id_q(value=value, prefix=prefix, folds_case=folds_case)
    # As the page asks: newest first, a page and one row more.
    queryset = Video.objects.filter(condition).order_by("-recording_date", "-started_at", "-id")
    (plan,) = explain(queryset[:21])
    assert plan["key"] == "VIDEO_SESSIONID_IDX", plan
    assert plan["type"] in ("ref", "range"), plan
    assert int(plan["rows"]) < 100, plan


def test_explain_of_the_whole_search_page_query(calls):
    for filters in (
        VideoFilters(session_id=CALL.upper()),
        VideoFilters(session_id=CALL[:-4], session_prefix=True),
    ):
        (plan,) = explain(video_search(filters=filters)[:21])
        assert (plan["key"], plan["type"]) in (
            ("VIDEO_SESSIONID_IDX", "ref"),
            ("VIDEO_SESSIONID_IDX", "range"),
        ), plan


def test_the_page_finds_any_case_and_by_a_beginning(client, operator, calls):
    (first, second), longer = calls
    whole = client.get("/", {"session": f"  {CALL.upper()}  "})
    assert {r.video.pk for r in whole.context["rows"]} == {first.pk, second.pk}
    assert "начинается" not in whole.content.decode()
    # The search is audited as typed (trimmed).
    assert whole.context["found"].filters.as_query() == {"session": CALL.upper()}

    partial = client.get("/", {"session": CALL[:-4]})
    assert {r.video.pk for r in partial.context["rows"]} == {first.pk, second.pk, longer.pk}
    assert "показаны записи, ID сессии которых начинается" in partial.content.decode()
    assert partial.context["found"].filters.session_prefix

    # Whole only, as the API does by default: the longer id is another call.
    exact = client.get("/", {"session": CALL, "match": "exact"})
    assert {r.video.pk for r in exact.context["rows"]} == {first.pk, second.pk}


@pytest.mark.parametrize("value", ["node_0", "1629934", "abc"])
def test_a_beginning_shorter_than_8_is_a_form_error(client, operator, calls, value):
    response = client.get("/", {"session": value})
    assert response.context["form"].errors["session"] == [
        "Слишком коротко для поиска: введите ID сессии целиком или хотя бы первые 8 символов."
    ]
    assert not response.context.get("rows")


def test_the_api_matches_whole_ids_unless_asked_for_a_beginning(client, operator, calls):
    (first, second), longer = calls
    whole = client.get("/api/videos/", {"session": CALL.upper()}).json()
    assert {r["id"] for r in whole["results"]} == {first.pk, second.pk}
    assert client.get("/api/videos/", {"session": CALL[:-4]}).json()["count"] == 0
    begun = client.get("/api/videos/", {"session": CALL[:-4], "match": "prefix"}).json()
    assert {r["id"] for r in begun["results"]} == {first.pk, second.pk, longer.pk}


def test_shorter_prefix_to_suggest():
    assert session_id_shorter_prefix(CALL) == CALL.rsplit("_", 1)[0]
    assert session_id_shorter_prefix("abcdefghij") is None
    assert session_id_shorter_prefix("abc_defg_hij") == "abc_defg"


@pytest.fixture
def sqlite():
    """An in-memory SQLite database with the VIDEO table as ``migrate`` makes it there."""
    handler = ConnectionHandler(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    )
    lite = handler["default"]
    with lite.schema_editor() as editor:
        editor.create_model(Zone)
        editor.create_model(Video)
    yield lite
    lite.close()


def test_sqlite_finds_any_case_through_the_index(sqlite):
    from search.session_ids import _column_folds_case

    assert _column_folds_case(connection=sqlite) is False  # SQLite compares byte for byte
    with sqlite.cursor() as cursor:
        cursor.execute(
            'INSERT INTO "CONFIG" (id, "ZONE", "SERVER", "USER", "RSA_KEY", "SPEED", '
            '"PATH_SRC", "PATH_DST", "TYPE_VIDEOFILE") VALUES (1, "z", "s", "u", "", 1, "/a", '
            '"/b", "mp4")'
        )
    rows = [(1, CALL), (2, CALL), (3, CALL + "7"), (4, session_id(5))]
    with sqlite.cursor() as cursor:
        for pk, sid in rows:
            cursor.execute(
                'INSERT INTO "VIDEO" (id, "ZONE_ID", "SESSIONID", "FILE_NAME", '
                '"RECORDING_DATE") VALUES (%s, 1, %s, %s, "2026-11-01")',
                [pk, sid, f"{pk}.mp4"],
            )

    def run(value, prefix):
        queryset = Video.objects.filter(
            session_id_q(value=value, prefix=prefix, folds_case=False)
        ).values_list("pk", flat=True)
        sql, params = queryset.query.get_compiler(connection=sqlite).as_sql()
        with sqlite.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
            cursor.execute(sql, params)
            return {row[0] for row in cursor.fetchall()}, plan

    for value, prefix, expected in [
        (CALL.upper(), False, {1, 2}),
        (CALL, False, {1, 2}),
        (CALL[:-4].upper(), True, {1, 2, 3}),
        (CALL[:-4], True, {1, 2, 3}),
    ]:
        pks, plan = run(value, prefix)
        assert pks == expected, (value, plan)
        assert re.search(r"USING (COVERING )?INDEX VIDEO_SESSIONID_IDX", plan), plan
        assert "SCAN" not in plan, plan
