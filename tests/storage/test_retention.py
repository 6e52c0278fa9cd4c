"""The retention rule at its edges and the purge service against real files and MariaDB:
exactly the expired recordings go, everything else stays, and every refusal is reported."""

import os
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import translation

from storage.models import PurgeRun, Video
from storage.paths import Removal
from storage.retention import (
    PurgeAlreadyRunning,
    PurgeError,
    expiry_date,
    purge_lock_name,
    retention_today,
    videos_expired,
    videos_purge_expired,
)
from storage.services import video_legal_hold_set
from tests.helpers import server_connect
from tests.storage.conftest import store_make

pytestmark = pytest.mark.django_db

# A day in the past: the purge refuses a "today" after the real one.
TODAY = date(2025, 3, 1)


def days_before(n: int) -> date:
    return TODAY - timedelta(days=n)


def purge(store, **kwargs):
    return videos_purge_expired(zone=store.zone, today=kwargs.pop("today", TODAY), **kwargs)


def state(video: Video) -> tuple[bool, bool]:
    """(row recorded as deleted, file still on disk)."""
    video.refresh_from_db()
    return video.delete_date is not None, os.path.lexists(
        video.zone.path_dst + "/" + video.file_name
    )


# --- the rule -------------------------------------------------------------------------------


def test_the_rule_at_its_edges(store):
    # The zone keeps recordings 30 days.
    last_day = store.recording("last-day.mp4", recorded=days_before(30))
    first_day = store.recording("first-day.mp4", recorded=days_before(31))
    fresh = store.recording("fresh.mp4", recorded=TODAY)
    # A recording's own STORAGE_DAYS wins over the zone's, shorter or longer.
    short_kept = store.recording("short-kept.mp4", recorded=days_before(10), storage_days=10)
    short_gone = store.recording("short-gone.mp4", recorded=days_before(11), storage_days=10)
    long_kept = store.recording("long-kept.mp4", recorded=days_before(45), storage_days=60)
    zero_kept = store.recording("zero-kept.mp4", recorded=TODAY, storage_days=0)
    zero_gone = store.recording("zero-gone.mp4", recorded=days_before(1), storage_days=0)
    held = store.recording(
        "held.mp4", recorded=days_before(400), legal_hold=True, legal_hold_reason="court"
    )

    summary = purge(store)

    assert state(last_day) == (False, True)
    assert state(first_day) == (True, False)
    assert state(fresh) == (False, True)
    assert state(short_kept) == (False, True)
    assert state(short_gone) == (True, False)
    assert state(long_kept) == (False, True)
    assert state(zero_kept) == (False, True)
    assert state(zero_gone) == (True, False)
    assert state(held) == (False, True)
    assert (summary.deleted, summary.missing, summary.refused, summary.failed) == (3, 0, 0, 0)
    assert summary.bytes_freed == 3000


def test_the_rule_counts_calendar_days_across_a_leap_day(store):
    kept = store.recording("kept.mp4", recorded=date(2024, 2, 29), storage_days=1)
    gone = store.recording("gone.mp4", recorded=date(2024, 2, 28), storage_days=1)

    purge(store, today=date(2024, 3, 1))

    assert state(kept) == (False, True)
    assert state(gone) == (True, False)


def test_the_database_and_the_rule_agree_on_the_last_day_kept(store):
    video = store.recording("a.mp4", recorded=date(2024, 12, 31), storage_days=60)
    no_override = store.recording("b.mp4", recorded=date(2024, 12, 31))
    kept_until = dict(
        Video.objects.filter(zone=store.zone)
        .annotate(until=expiry_date())
        .values_list("file_name", "until")
    )
    assert kept_until == {
        video.file_name: date(2025, 3, 1),
        no_override.file_name: date(2025, 1, 30),
    }


def test_a_recording_already_deleted_is_never_touched_again(store):
    done = store.recording("done.mp4", recorded=days_before(100), delete_date=date(2025, 1, 1))

    summary = purge(store)

    done.refresh_from_db()
    assert done.delete_date == date(2025, 1, 1)
    assert (store.root / "done.mp4").exists()  # not ours to delete any more
    assert summary.deleted == summary.missing == 0


def test_only_the_zone_s_own_recordings_are_purged(store, tmp_path):
    other = store_make(tmp_path / "other")
    mine = store.recording("x.mp4", recorded=days_before(100))
    theirs = other.recording("x.mp4", recorded=days_before(100))

    purge(store)

    assert state(mine) == (True, False)
    assert state(theirs) == (False, True)


def test_today_is_the_date_in_the_project_time_zone():
    # 25 hours apart: at any moment these two zones are on different dates.
    dates = {}
    for tz in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        with override_settings(TIME_ZONE=tz):
            dates[tz] = (retention_today(), datetime.now(ZoneInfo(tz)).date())
    assert all(ours == theirs for ours, theirs in dates.values())
    assert dates["Pacific/Kiritimati"][0] > dates["Pacific/Pago_Pago"][0]


def test_a_day_after_today_is_refused_and_changes_nothing(store):
    video = store.recording("a.mp4", recorded=retention_today() - timedelta(days=31))
    with pytest.raises(PurgeError, match="future"):
        videos_purge_expired(zone=store.zone, today=retention_today() + timedelta(days=1))
    assert state(video) == (False, True)
    assert not PurgeRun.objects.exists()


def test_deletion_is_recorded_with_the_real_date(store):
    video = store.recording("a.mp4", recorded=days_before(31))
    purge(store)
    video.refresh_from_db()
    assert video.delete_date == retention_today()


# --- safety ---------------------------------------------------------------------------------


def test_names_reaching_outside_are_refused_and_reported(store):
    (store.root / "sub").mkdir()
    (store.root / "link.mp4").symlink_to(store.outside / "secret.mp4")
    (store.root / "linkdir").symlink_to(store.outside / "dir")
    (store.root / ".hidden.mp4").write_bytes(b"h")
    old = days_before(100)
    names = [
        "../outside/secret.mp4",
        "sub/../../outside/secret.mp4",
        str(store.outside / "secret.mp4"),  # absolute
        "link.mp4",  # a symlink pointing out
        "linkdir/inner.mp4",  # a directory symlink on the way
        ".hidden.mp4",
        "sub\\..\\x.mp4",
    ]
    rows = [store.recording(name, recorded=old, file=False) for name in names]
    before = store.files()

    summary = purge(store)

    assert summary.refused == len(names)
    assert summary.deleted == summary.missing == summary.failed == 0
    assert store.files() == before
    assert (store.outside / "secret.mp4").read_bytes() == b"SECRET" * 10
    assert (store.outside / "dir" / "inner.mp4").exists()
    assert all(state(row)[0] is False for row in rows)
    assert len(summary.problems) == len(names)
    assert all(p.startswith("refused: id=") for p in summary.problems)
    run = PurgeRun.objects.get()
    assert run.refused == len(names)
    assert "link.mp4" in run.problems and "symbolic link" in run.problems


def test_a_directory_swapped_for_a_symlink_during_the_run_is_refused(store):
    videos = [store.recording(f"op1/{n}.mp4", recorded=days_before(100)) for n in range(5)]
    for n in range(5):
        (store.outside / "dir" / f"{n}.mp4").write_bytes(b"OUTSIDE")

    def swap(item):
        # After the first file of the first batch: op1's descriptor is kept open by then,
        # for the rest of this batch, and the next batch opens everything afresh.
        if item.file_name == "op1/0.mp4":
            (store.root / "op1").rename(store.root / "op1.moved")
            (store.root / "op1").symlink_to(store.outside / "dir")

    summary = purge(store, batch_size=3, each=swap)

    assert (summary.deleted, summary.refused) == (1, 4)
    assert all((store.outside / "dir" / f"{n}.mp4").read_bytes() == b"OUTSIDE" for n in range(5))
    assert sorted(os.listdir(store.root / "op1.moved")) == [f"{n}.mp4" for n in range(1, 5)]
    assert [state(v)[0] for v in videos] == [True, False, False, False, False]


def test_a_directory_where_the_file_should_be_is_left_and_reported(store):
    video = store.recording("rec.mp4", recorded=days_before(100), file=False)
    (store.root / "rec.mp4").mkdir()
    (store.root / "rec.mp4" / "inside.mp4").write_bytes(b"x")

    summary = purge(store)

    assert summary.failed == 1
    assert "not a regular file" in summary.problems[0]
    assert (store.root / "rec.mp4" / "inside.mp4").exists()
    assert state(video)[0] is False


def test_write_protected_file_and_directory_are_kept_and_reported(store):
    ro_file = store.recording("ro.mp4", recorded=days_before(100))
    (store.root / "ro.mp4").chmod(0o444)
    ro_dir = store.recording("locked/in.mp4", recorded=days_before(100))
    (store.root / "locked").chmod(0o555)
    fine = store.recording("fine.mp4", recorded=days_before(100))
    try:
        summary = purge(store)
    finally:
        (store.root / "locked").chmod(0o755)

    assert (summary.deleted, summary.failed) == (1, 2)
    assert state(ro_file) == (False, True)
    assert state(ro_dir) == (False, True)
    assert state(fine) == (True, False)
    problems = "\n".join(summary.problems)
    assert "write-protected file" in problems and "write-protected directory" in problems


def test_a_file_the_kernel_refuses_to_delete_keeps_its_row(store, immutable):
    stuck = store.recording("stuck.mp4", recorded=days_before(100))
    immutable(store.root / "stuck.mp4")
    after = store.recording("after.mp4", recorded=days_before(100))

    summary = purge(store)

    assert summary.failed == 1 and summary.deleted == 1
    assert "EPERM" in summary.problems[0]
    assert state(stuck) == (False, True)
    assert state(after) == (True, False)  # the run went on


def test_a_missing_storage_directory_stops_the_run_before_anything_changes(store):
    video = store.recording("a.mp4", recorded=days_before(100), file=False)
    store.root.rmdir()

    with pytest.raises(PurgeError, match="not a directory on this host"):
        purge(store)

    assert state(video) == (False, False)
    run = PurgeRun.objects.get()
    assert run.status == PurgeRun.Status.FAILED
    assert "is the storage mounted" in run.error


def test_a_storage_directory_reached_through_a_symlink_is_refused(tmp_path):
    store = store_make(tmp_path)
    (tmp_path / "alias").symlink_to(store.root)
    store.zone.path_dst = str(tmp_path / "alias")
    store.zone.save(update_fields=["path_dst"])
    video = store.recording("a.mp4", recorded=days_before(100))

    with pytest.raises(PurgeError, match="symbolic"):
        purge(store)

    assert state(video) == (False, True)


# --- outcomes, records, idempotence ---------------------------------------------------------


def test_a_file_already_gone_is_recorded_as_deleted_and_counted_missing(store):
    gone = store.recording("gone.mp4", recorded=days_before(100), file=False)
    in_missing_dir = store.recording("nodir/gone.mp4", recorded=days_before(100), file=False)

    summary = purge(store)

    assert (summary.deleted, summary.missing) == (0, 2)
    assert state(gone) == (True, False)
    assert state(in_missing_dir) == (True, False)


def test_the_run_is_recorded_with_its_summary(store):
    for n in range(5):
        store.recording(f"d/{n}.mp4", recorded=days_before(100), size=100 + n)
    store.recording("missing.mp4", recorded=days_before(100), file=False)
    store.recording("../escape.mp4", recorded=days_before(100), file=False)

    summary = purge(store, batch_size=2)

    run = PurgeRun.objects.get()
    assert run.pk == summary.run_id
    assert run.status == PurgeRun.Status.FINISHED
    assert run.zone == store.zone and run.zone_name == store.zone.name
    assert run.trigger == PurgeRun.Trigger.COMMAND
    assert run.today == TODAY
    assert run.finished_at >= run.started_at
    assert (run.deleted, run.missing, run.refused, run.failed) == (5, 1, 1, 0)
    assert run.bytes_freed == sum(100 + n for n in range(5)) == summary.bytes_freed
    assert "escape.mp4" in run.problems


def test_running_twice_changes_nothing_the_second_time(store):
    for n in range(7):
        store.recording(f"{n}.mp4", recorded=days_before(40 + n))
    store.recording("kept.mp4", recorded=days_before(3))
    purge(store, batch_size=3)
    rows = list(Video.objects.order_by("id").values_list("id", "delete_date"))
    files = store.files()

    again = purge(store, batch_size=3)

    assert (again.deleted, again.missing, again.refused, again.failed) == (0, 0, 0, 0)
    assert list(Video.objects.order_by("id").values_list("id", "delete_date")) == rows
    assert store.files() == files == {"kept.mp4"}


def test_a_run_killed_after_deleting_files_is_finished_by_the_next(store):
    videos = [store.recording(f"{n}.mp4", recorded=days_before(40)) for n in range(6)]
    # What a kill between the unlinks and the commit leaves: files gone, rows live.
    for video in videos[:4]:
        os.unlink(store.root / video.file_name)

    summary = purge(store, batch_size=4)

    assert (summary.deleted, summary.missing) == (2, 4)
    assert all(state(v) == (True, False) for v in videos)
    assert store.files() == set()


def test_an_interrupted_run_is_marked_when_the_next_one_starts(store):
    stale = PurgeRun.objects.create(
        zone=store.zone,
        zone_name=store.zone.name,
        trigger=PurgeRun.Trigger.SCHEDULE,
        today=TODAY,
        started_at=datetime(2025, 3, 1, 0, 0, tzinfo=ZoneInfo("UTC")),
    )
    purge(store)
    stale.refresh_from_db()
    assert stale.status == PurgeRun.Status.INTERRUPTED
    assert stale.finished_at is not None


def test_a_second_purge_of_the_same_zone_does_not_start(store):
    video = store.recording("a.mp4", recorded=days_before(100))
    other = server_connect()
    try:
        # Another purge, on another host, holds the zone.
        cursor = other.cursor()
        cursor.execute("SELECT GET_LOCK(%s, 0)", [purge_lock_name(zone=store.zone)])
        assert cursor.fetchone() == (1,)

        with pytest.raises(PurgeAlreadyRunning):
            purge(store)
        assert state(video) == (False, True)
        assert not PurgeRun.objects.exists()
        assert purge(store, dry_run=True).deleted == 1  # a dry run changes nothing: no lock
        # Released by the holder (the server frees a closed session's locks only once it has
        # processed the disconnect, which may come after the next statement).
        cursor.execute("SELECT RELEASE_LOCK(%s)", [purge_lock_name(zone=store.zone)])
    finally:
        other.close()

    assert purge(store).deleted == 1


def test_dry_run_lists_and_changes_nothing(store):
    store.recording("a.mp4", recorded=days_before(100), size=10)
    store.recording("gone.mp4", recorded=days_before(100), file=False)
    store.recording("../out.mp4", recorded=days_before(100), file=False)
    store.recording("kept.mp4", recorded=days_before(1))
    seen = []

    summary = purge(store, dry_run=True, each=seen.append)

    assert sorted((i.file_name, i.outcome) for i in seen) == [
        ("../out.mp4", Removal.REFUSED),
        ("a.mp4", Removal.WOULD_DELETE),
        ("gone.mp4", Removal.MISSING),
    ]
    assert (summary.deleted, summary.missing, summary.refused, summary.bytes_freed) == (1, 1, 1, 10)
    assert store.files() == {"a.mp4", "kept.mp4"}
    assert not Video.objects.filter(delete_date__isnull=False).exists()
    assert not PurgeRun.objects.exists()


def test_progress_is_reported_per_batch(store):
    for n in range(5):
        store.recording(f"{n}.mp4", recorded=days_before(100))
    steps = []
    purge(store, batch_size=2, progress=steps.append)
    assert steps == [2, 2, 1]


def test_expired_selector_matches_what_the_purge_deletes(store):
    expired = {store.recording(f"e{n}.mp4", recorded=days_before(31 + n)).pk for n in range(3)}
    store.recording("k.mp4", recorded=days_before(30))
    assert set(videos_expired(zone=store.zone, today=TODAY).values_list("pk", flat=True)) == expired
    purge(store)
    assert (
        set(Video.objects.filter(delete_date__isnull=False).values_list("pk", flat=True)) == expired
    )


# --- legal hold against the purge -----------------------------------------------------------


def test_a_hold_cannot_be_placed_on_a_recording_the_purge_deleted_meanwhile(store):
    video = store.recording("a.mp4", recorded=days_before(100))
    stale_copy = Video.objects.get(pk=video.pk)  # loaded before the purge ran
    purge(store)

    with translation.override("en"), pytest.raises(ValidationError, match="already been deleted"):
        video_legal_hold_set(video=stale_copy, hold=True, reason="court order")
    assert not Video.objects.get(pk=video.pk).legal_hold
