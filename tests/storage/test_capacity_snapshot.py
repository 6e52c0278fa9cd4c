"""The zone worker's capacity snapshot: a real directory (real sizes, the previews tree, links)
and the roll-up of the zone's days, run as the retention workers' restricted database user."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, date, datetime, time, timedelta

import MySQLdb
import pytest
from django.utils import timezone

from storage.capacity.snapshot import catch_up_days, local_day_range, zone_days_roll_up
from storage.models import PurgeRun, StorageSnapshot, ZoneDay
from storage.tasks import capacity_zone
from tests.factories import make_video, make_zone
from tests.helpers import manage, subprocess_db_env, wait_until
from tests.services.celery import worker
from tests.storage.conftest import store_make
from tests.storage.test_retention_grants import DENIED, as_rm, rm_account  # noqa: F401
from zones.capacity_schedule import CAPACITY_SCHEDULE
from zones.services import zone_delete, zone_update

TZ = timezone.get_default_timezone()


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


def fill(store) -> dict:
    """Recordings of known sizes and dates, and what must not count: previews, hidden
    uploads, lost+found, links to files and directories outside PATH_DST."""
    root = store.root
    (root / "op101").mkdir()
    (root / "op102" / "2026").mkdir(parents=True)
    files = {
        "op101/a.mp4": (3000, date(2026, 10, 2)),
        "op101/b.mp4": (5000, date(2026, 11, 20)),
        "op102/2026/c.mp4": (7001, date(2026, 9, 15)),  # the oldest
        "top.mp4": (11, date(2026, 11, 29)),
    }
    for name, (size, day) in files.items():
        path = root / name
        path.write_bytes(os.urandom(size))
        stamp = local(day, 12).timestamp()
        os.utime(path, (stamp, stamp))
    old = local(date(2020, 1, 1), 12).timestamp()
    previews = root / ".previews" / "op101" / "a.mp4"
    previews.mkdir(parents=True)
    (previews / "sprite.jpg").write_bytes(b"j" * 90_000)
    os.utime(previews / "sprite.jpg", (old, old))
    (root / "op101" / ".b.mp4.Xy12ab").write_bytes(b"u" * 50_000)  # rsync, under way
    (root / "lost+found").mkdir()
    (root / "lost+found" / "#123").write_bytes(b"l" * 40_000)
    os.utime(store.outside / "secret.mp4", (old, old))
    os.symlink(store.outside / "secret.mp4", root / "op101" / "link.mp4")
    os.symlink(store.outside / "dir", root / "op102" / "elsewhere")
    return files


@pytest.mark.django_db(transaction=True)
def test_the_command_records_the_directory_as_the_retention_user(rm_account, tmp_path):  # noqa: F811
    store = store_make(tmp_path)
    files = fill(store)
    usage = shutil.disk_usage(store.root)

    run = as_rm(rm_account, "capacity_snapshot", "--zone", store.zone.name)

    assert run.returncode == 0, run.stderr
    snapshot = StorageSnapshot.objects.get(zone=store.zone)
    assert snapshot.file_count == 4
    assert snapshot.file_bytes == sum(size for size, _ in files.values()) == 15012
    assert snapshot.oldest_recording == date(2026, 9, 15)
    # The disk's figures are the file system's (other tests write meanwhile: a margin).
    assert snapshot.total_bytes == usage.total
    assert abs(snapshot.used_bytes - usage.used) < 2**30
    assert abs(snapshot.free_bytes - usage.free) < 2**30
    assert snapshot.used_bytes + snapshot.free_bytes <= snapshot.total_bytes
    assert f"zone {store.zone.name}: disk {usage.total} bytes" in run.stdout
    assert "recordings 4 files, 15012 bytes, oldest 2026-09-15" in run.stdout
    # Nothing outside was touched, the links still links.
    assert os.path.islink(store.root / "op101" / "link.mp4")
    assert (store.outside / "dir" / "inner.mp4").read_bytes() == b"INNER" * 10


@pytest.mark.django_db(transaction=True)
def test_the_roll_up_counts_each_local_day_and_is_idempotent(rm_account, tmp_path):  # noqa: F811
    # The command runs in a process of its own: the window is the default, 14 days.
    store = store_make(tmp_path)
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    before = today - timedelta(days=2)
    zone = store.zone
    # 00:10 in Moscow is 21:10 UTC the day before: it belongs to the local day.
    make_video(zone=zone, size=100, registered_at=local(today, 0, 10))
    make_video(zone=zone, size=200, registered_at=local(yesterday, 23, 50))
    make_video(zone=zone, size=400, registered_at=local(yesterday, 0, 0))
    make_video(zone=zone, size=800, registered_at=local(before, 23, 59))
    # Size unknown (an old client's row): counted at the day's mean, 300.
    make_video(zone=zone, size=None, registered_at=local(yesterday, 9))
    other = store_make(tmp_path / "other")
    make_video(zone=other.zone, size=5000, registered_at=local(yesterday, 9))
    for started, deleted, freed in ((local(yesterday, 3), 7, 7000), (local(yesterday, 15), 1, 5)):
        PurgeRun.objects.create(
            zone=zone, zone_name=zone.name, trigger="schedule", status="finished",
            today=yesterday, started_at=started, deleted=deleted, bytes_freed=freed,
        )  # fmt: skip
    PurgeRun.objects.create(
        zone=zone, zone_name=zone.name, trigger="schedule", status="finished",
        today=before, started_at=local(before, 3), deleted=3, bytes_freed=3000,
    )  # fmt: skip

    first = as_rm(rm_account, "capacity_snapshot", "--zone", zone.name)
    rows_after_first = list(ZoneDay.objects.filter(zone=zone).values())
    again = as_rm(rm_account, "capacity_snapshot", "--zone", zone.name, "--days", "3")

    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    # The first run rolls up the forecast's whole window (and today): nothing before it.
    assert len(rows_after_first) == 15
    days = {row.day: row for row in ZoneDay.objects.filter(zone=zone)}
    assert set(days) == {today - timedelta(days=back) for back in range(15)}
    figures = {
        day: (row.received, row.received_bytes, row.purged, row.purged_bytes)
        for day, row in days.items()
    }
    assert figures == {
        **{today - timedelta(days=back): (0, 0, 0, 0) for back in range(3, 15)},
        today: (1, 100, 0, 0),
        yesterday: (3, 900, 8, 7005),
        before: (1, 800, 3, 3000),
    }
    # The second run wrote the same figures over the same rows (the unique (zone, day)).
    assert {row["id"] for row in rows_after_first} <= {row.pk for row in days.values()}
    assert f"{yesterday.isoformat()}: received 3 (900 bytes), purged 8 (7005 bytes)" in again.stdout
    assert not ZoneDay.objects.filter(zone=other.zone).exists()
    assert StorageSnapshot.objects.filter(zone=zone).count() == 2


def test_a_local_day_is_a_utc_range_from_local_midnight():
    start, end = local_day_range(date(2026, 12, 1))
    assert start.astimezone(UTC) == datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    assert end - start == timedelta(days=1)


@pytest.mark.django_db(transaction=True)
def test_the_command_says_what_is_wrong(tmp_path):
    store = store_make(tmp_path)
    shutil.rmtree(store.root)
    missing = manage(
        "capacity_snapshot", "--zone", store.zone.name, check=False, env=subprocess_db_env()
    )
    bad_days = manage(
        "capacity_snapshot",
        "--zone",
        store.zone.name,
        "--days",
        "0",
        check=False,
        env=subprocess_db_env(),
    )
    nobody = manage(
        "capacity_snapshot", "--zone", "nosuchzone", check=False, env=subprocess_db_env()
    )

    assert missing.returncode == 1
    assert "is not a directory on this host" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert bad_days.returncode == 1
    assert "--days must be a whole number from 1 to 3660, not '0'" in bad_days.stderr
    assert nobody.returncode == 1
    assert "no zone named 'nosuchzone'" in nobody.stderr
    assert not StorageSnapshot.objects.exists()
    assert not ZoneDay.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_link_as_path_dst_is_refused(tmp_path):
    store = store_make(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(store.outside)
    zone_update(zone=store.zone, path_dst=str(link))
    run = manage(
        "capacity_snapshot", "--zone", store.zone.name, check=False, env=subprocess_db_env()
    )
    assert run.returncode == 1
    assert "is or passes through a symbolic link" in run.stderr
    assert not StorageSnapshot.objects.exists()


@pytest.mark.django_db
def test_the_task_refuses_another_zone_and_runs_its_own(tmp_path, settings):
    settings.OPVIDEO_CAPACITY_WINDOW_DAYS = 3
    own = store_make(tmp_path / "own")
    other = store_make(tmp_path / "other")
    (own.root / "a.mp4").write_bytes(b"a" * 1234)
    settings.OPVIDEO_WORKER_ZONE = own.zone.name

    refusal = capacity_zone(other.zone.pk)
    done = capacity_zone(own.zone.pk)

    assert refusal == {"refused": True, "zone": other.zone.name, "worker_zone": own.zone.name}
    assert not StorageSnapshot.objects.filter(zone=other.zone).exists()
    assert (done["file_count"], done["file_bytes"]) == (1, 1234)
    # The first run: the window's days and today, oldest first.
    assert [d["day"] for d in done["days"]] == [
        (timezone.localdate() - timedelta(days=back)).isoformat() for back in range(3, -1, -1)
    ]
    # The next: from the last day rolled up (today) back to yesterday at least.
    again = capacity_zone(own.zone.pk)
    assert [d["day"] for d in again["days"]] == [
        (timezone.localdate() - timedelta(days=1)).isoformat(),
        timezone.localdate().isoformat(),
    ]
    zone_update(zone=own.zone, enabled=False)
    assert capacity_zone(own.zone.pk) is None  # disabled: skipped
    assert StorageSnapshot.objects.filter(zone=own.zone).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_worker_takes_the_snapshot_as_the_retention_user(rm_account, tmp_path, broker):  # noqa: F811
    store = store_make(tmp_path)
    (store.root / "a.mp4").write_bytes(b"a" * 4321)
    entry = CAPACITY_SCHEDULE.entry(zone=store.zone)
    broker.queued(store.zone)  # the queue is removed afterwards
    capacity_zone.apply_async(args=[store.zone.pk], queue=entry.queue)

    with worker(
        entry.queue,
        tmp_path / "worker.log",
        DATABASE_URL=rm_account["url"],
        OPVIDEO_WORKER_ZONE=store.zone.name,
    ):
        wait_until(
            lambda: StorageSnapshot.objects.filter(zone=store.zone).exists(),
            what="the worker to record the zone's snapshot as the retention user",
        )
    snapshot = StorageSnapshot.objects.get(zone=store.zone)
    assert (snapshot.file_count, snapshot.file_bytes) == (1, 4321)
    # The first run rolls up the whole window and today.
    assert ZoneDay.objects.filter(zone=store.zone).count() == 15


@pytest.mark.django_db
def test_each_enabled_zone_has_its_entry_on_its_own_queue(tmp_path, settings):
    store = store_make(tmp_path)
    entry = CAPACITY_SCHEDULE.entry(zone=store.zone)
    assert entry.task == "storage.capacity_zone"
    assert entry.queue == f"zone.{store.zone.name}"
    assert (entry.interval.every, entry.interval.period) == (60, "minutes")
    assert entry.expire_seconds == 3600

    zone_update(zone=store.zone, enabled=False)
    assert CAPACITY_SCHEDULE.entry(zone=store.zone) is None
    zone_update(zone=store.zone, enabled=True)
    CAPACITY_SCHEDULE.entry(zone=store.zone).delete()  # as after adopting a database
    settings.OPVIDEO_CAPACITY_INTERVAL_MINUTES = 30
    out = manage_sync()
    assert f"{store.zone.name} (capacity snapshot): created" in out
    assert CAPACITY_SCHEDULE.entry(zone=store.zone).interval.every == 30
    zone_delete(zone=store.zone)
    assert CAPACITY_SCHEDULE.entry(zone=store.zone) is None


def manage_sync() -> str:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sync_purge_schedules", stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM `STORAGE_SNAPSHOT`",  # it adds snapshots, never reads or changes them
        "DELETE FROM `STORAGE_SNAPSHOT`",
        "DELETE FROM `ZONE_DAY`",
        "SELECT `PROJECTID` FROM `VIDEO`",
    ],
)
def test_the_retention_user_may_not_touch_the_snapshots_beyond_adding(rm_account, statement):  # noqa: F811
    conn = MySQLdb.connect(**rm_account["connect"])
    try:
        with pytest.raises(DENIED) as info:
            conn.cursor().execute(statement)
    finally:
        conn.close()
    assert "denied" in str(info.value).lower()


@pytest.mark.django_db
def test_the_days_missed_while_the_worker_was_down_are_rolled_up_when_it_returns(settings):
    """Recordings arrive while the worker is down (the workstations register them
    themselves): the first run after must roll those days up, or the forecast reads them
    as days nothing arrived."""
    settings.OPVIDEO_CAPACITY_WINDOW_DAYS = 14
    zone = make_zone(name="kursk")
    now = timezone.now()
    today = timezone.localdate(now)
    for back in range(5, 15):  # the worker ran these days
        ZoneDay.objects.create(
            zone=zone,
            day=today - timedelta(days=back),
            received=1,
            received_bytes=40,
            updated_at=now,
        )
    for back in range(0, 5):  # and was down for these
        start, _ = local_day_range(today - timedelta(days=back))
        make_video(zone=zone, registered_at=start + timedelta(hours=10), size=40)

    assert catch_up_days(zone=zone, now=now) == 6  # the last day rolled up again, to today
    zone_days_roll_up(zone=zone, now=now, days=catch_up_days(zone=zone, now=now))

    rows = dict(ZoneDay.objects.filter(zone=zone).values_list("day", "received_bytes"))
    assert [rows.get(today - timedelta(days=back)) for back in range(0, 5)] == [40] * 5
    assert rows[today - timedelta(days=5)] == 0  # recomputed from VIDEO: nothing that day
    # Bounded: never further back than the window, the whole window the first time.
    ZoneDay.objects.filter(zone=zone).delete()
    assert catch_up_days(zone=zone, now=now) == 15
    ZoneDay.objects.create(zone=zone, day=today - timedelta(days=400), updated_at=now)
    assert catch_up_days(zone=zone, now=now) == 15
    ZoneDay.objects.create(zone=zone, day=today, updated_at=now)
    assert catch_up_days(zone=zone, now=now) == 2


@pytest.mark.django_db
def test_recordings_registered_without_a_size_still_count():
    """Old clients during a roll-out register no SIZE: their recordings take room all the
    same, counted at the day's mean, or the disk's mean on a day none had a size."""
    zone = make_zone(name="kursk")
    now = timezone.now()
    today = timezone.localdate(now)
    yesterday, before = today - timedelta(days=1), today - timedelta(days=2)
    start, _ = local_day_range(yesterday)
    make_video(zone=zone, registered_at=start + timedelta(hours=9), size=100)
    make_video(zone=zone, registered_at=start + timedelta(hours=10), size=300)
    make_video(zone=zone, registered_at=start + timedelta(hours=11), size=None)
    start, _ = local_day_range(before)
    for hour in (9, 10):
        make_video(zone=zone, registered_at=start + timedelta(hours=hour), size=None)

    zone_days_roll_up(zone=zone, now=now, days=3, mean_size=1000.0)

    rows = {row.day: row for row in ZoneDay.objects.filter(zone=zone)}
    assert (rows[yesterday].received, rows[yesterday].received_bytes) == (3, 600)
    assert (rows[before].received, rows[before].received_bytes) == (2, 2000)
