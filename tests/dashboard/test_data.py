"""The dashboard's reads (opvideo.dashboard.data): the right numbers, only for zones the user
may view, and never a scan of VIDEO."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from opvideo.dashboard.data import DAYS, dashboard_read, history_read
from tests.dashboard.site import MIB, NOW, TIB, received_on, site_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    return site_build(now=NOW)


@pytest.fixture
def admin(db):
    return get_user_model().objects.create_superuser("boss", "boss@example.ru", "x" * 12)


def staff_with(*codenames):
    name = "clerk-" + "-".join(codenames)
    user = get_user_model().objects.create_user(name[:150], "clerk@example.ru", "x" * 12)
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return get_user_model().objects.get(pk=user.pk)  # a fresh permission cache


def test_the_numbers_of_each_zone(site, admin):
    board = dashboard_read(user=admin, now=site.now)
    history_read(board, board.zones)
    today = timezone.localdate(site.now)
    assert [z.zone.name for z in board.zones] == ["kursk", "orel"]  # not the disabled one
    kursk, orel = board.zones

    assert len(kursk.days) == DAYS
    assert kursk.days[0].day == today - timedelta(days=DAYS - 1)
    assert kursk.days[-1].day == today
    assert [d.received for d in kursk.days] == [received_on(n) for n in range(DAYS - 1, -1, -1)]
    assert kursk.days[-1].received_bytes == received_on(0) * 10 * MIB
    assert kursk.received_total == sum(received_on(n) for n in range(DAYS))
    # Days without a row are zeros, not gaps.
    assert [d.received for d in orel.days[-4:]] == [7, 7, 7, 0]

    # One point per local day, the day's most used; 01:30 Moscow belongs to its own day.
    assert [(p.day, p.used) for p in kursk.disk] == [
        (today - timedelta(days=2), 4 * TIB + 23 * MIB),
        (today - timedelta(days=1), 4 * TIB + 100 * 1024 * MIB + 23 * MIB),
        (today, 4 * TIB + 200 * 1024 * MIB + MIB),
    ]
    assert kursk.disk[-1].total == 6 * TIB
    assert kursk.disk[-1].free == 6 * TIB - kursk.disk[-1].used
    assert orel.disk == []

    assert kursk.health == {"ok": 2, "quiet": 1, "failing": 1}
    assert orel.health == {"ok": 1, "quiet": 0, "failing": 0}
    assert (kursk.waiting, kursk.waiting_hosts) == (12, 2)
    assert (orel.waiting, orel.waiting_hosts) == (0, 0)

    assert kursk.purge.deleted == 10  # the latest of two
    assert orel.purge is None
    assert kursk.findings == 1  # the one of 20 days ago is not recent
    assert orel.findings == 0
    assert kursk.checked_at == site.now - timedelta(hours=2)
    assert orel.checked_at is None

    # The forecast comes with it (storage.capacity.forecast): kursk grows.
    assert kursk.forecast.snapshot.used_bytes == kursk.disk[-1].used
    assert kursk.forecast.growth_per_day > 0


def test_a_user_who_may_not_view_zones_sees_none(site):
    user = staff_with("view_workstation", "view_purgerun")
    assert dashboard_read(user=user, now=site.now).zones == []


def test_sections_follow_the_users_permissions(site):
    user = staff_with("view_zone")
    board = dashboard_read(user=user, now=site.now)
    assert [z.zone.name for z in board.zones] == ["kursk", "orel"]
    assert not (board.workstations or board.purges or board.integrity or board.recordings)
    kursk = board.zones[0]
    assert kursk.health is None and kursk.purge is None and kursk.findings is None
    assert kursk.checked_at is None
    history_read(board, board.zones)
    assert kursk.days[-1].received == received_on(0)  # the zone's own figures stay

    user = staff_with("view_zone", "view_workstation")
    board = dashboard_read(user=user, now=site.now)
    assert board.workstations and not board.purges
    assert board.zones[0].health == {"ok": 2, "quiet": 1, "failing": 1}


VIDEO_TABLE = re.compile(r"`VIDEO`(?!_)")


def test_video_is_read_only_through_the_integrity_index(site, admin_client):
    """Of the admin home's statements, the only one that names VIDEO is the per-zone MAX of
    integrity_checked_at, and MariaDB answers it from VIDEO_INTEGRITY_DUE_IDX alone: one
    index descent per zone, whatever the number of recordings."""
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get(reverse("admin:index")).status_code == 200
    video = [q["sql"] for q in queries.captured_queries if VIDEO_TABLE.search(q["sql"])]
    assert len(video) == 1, video
    sql = video[0]
    one = "SELECT {zone}, MAX(`INTEGRITY_CHECKED_AT`) FROM `VIDEO` WHERE `ZONE_ID` = {zone}"
    zones = (site.kursk.pk, site.orel.pk)
    assert sql == " UNION ALL ".join(one.format(zone=zone) for zone in zones), sql
    assert len(queries.captured_queries) <= 20

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        columns = [c[0] for c in cursor.description]
        plan = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    # Each part is answered from the index's end for that zone ("Select tables optimized
    # away": not a single row read), the union of them from their results.
    parts = [step for step in plan if step["table"] != "<union1,2>"]
    assert [step["Extra"] for step in parts] == ["Select tables optimized away"] * 2, plan

    # The plots are made once per version of the zone's history; a second visit reads
    # neither ZONE_DAY's days nor the snapshots' history again.
    with CaptureQueriesContext(connection) as again:
        admin_client.get(reverse("admin:index"))
    first = [q["sql"] for q in queries.captured_queries]
    second = [q["sql"] for q in again.captured_queries]
    windows = "SELECT `ZONE_ID`, `TAKEN_AT`, `USED_BYTES`"
    assert any(sql.startswith(windows) for sql in first)
    assert not any(sql.startswith(windows) for sql in second)
    assert len(second) == len(first) - 2  # nor the 90 days of ZONE_DAY
