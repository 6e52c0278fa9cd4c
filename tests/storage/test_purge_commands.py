"""The operators' commands: purge_expired and reconcile, run as an operator runs them."""

import fcntl
import io
import os
import pty
import struct
import subprocess
import termios
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from storage.models import PurgeRun, Video
from storage.reconcile import videos_reconcile
from storage.retention import retention_today
from storage.services import video_legal_hold_set
from tests.helpers import (
    PYTHON,
    REPO,
    manage,
    statements_running,
    subprocess_db_env,
    wait_until,
)

TODAY = retention_today()
OLD = TODAY - timedelta(days=100)


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- purge_expired --------------------------------------------------------------------------


@pytest.mark.django_db
def test_purge_expired_prints_the_summary(store):
    store.recording("a.mp4", recorded=OLD, size=2048)
    store.recording("gone.mp4", recorded=OLD, file=False)
    store.recording("kept.mp4", recorded=TODAY)

    out = run("purge_expired", "--zone", store.zone.name)

    assert (
        f"zone {store.zone.name}, expired before {TODAY.isoformat()}: deleted 1, missing 1, "
        "refused 0, failed 0, differs 0, skipped 0, freed 2048 bytes"
    ) in out
    assert store.files() == {"kept.mp4"}
    assert PurgeRun.objects.get().trigger == PurgeRun.Trigger.COMMAND


@pytest.mark.django_db
def test_purge_expired_dry_run_lists_and_keeps_everything(store):
    store.recording("a.mp4", recorded=OLD, size=10)
    store.recording("sub/b.mp4", recorded=OLD, size=20)
    store.recording("kept.mp4", recorded=TODAY)

    out = run("purge_expired", "--zone", store.zone.name, "--dry-run")

    lines = out.splitlines()
    assert any(line.startswith("would delete") and " a.mp4 " in line for line in lines)
    assert any(line.startswith("would delete") and " sub/b.mp4 " in line for line in lines)
    assert not any("kept.mp4" in line for line in lines)
    assert "would delete 2," in out and "would free 30 bytes" in out
    assert "Dry run: nothing was deleted or recorded." in out
    assert store.files() == {"a.mp4", "sub", "sub/b.mp4", "kept.mp4"}
    assert not Video.objects.filter(delete_date__isnull=False).exists()
    assert not PurgeRun.objects.exists()


@pytest.mark.django_db
def test_purge_expired_as_of_an_earlier_day(store):
    store.recording("a.mp4", recorded=TODAY - timedelta(days=40))  # zone keeps 30 days
    earlier = (TODAY - timedelta(days=20)).isoformat()

    run("purge_expired", "--zone", store.zone.name, "--today", earlier)

    assert store.files() == {"a.mp4"}  # as of 20 days ago it had 10 days left
    assert PurgeRun.objects.get().today.isoformat() == earlier


@pytest.mark.django_db
def test_purge_expired_exits_non_zero_when_something_was_not_deleted(store):
    store.recording("../x.mp4", recorded=OLD, file=False)
    with pytest.raises(CommandError, match=r"1 expired recording\(s\) were not deleted"):
        run("purge_expired", "--zone", store.zone.name)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--zone", "nowhere"], "no zone named 'nowhere'"),
        (["--today", "2026-02-30"], "--today must be a date as YYYY-MM-DD"),
        (["--today", (TODAY + timedelta(days=1)).isoformat()], "would delete recordings"),
    ],
)
def test_purge_expired_bad_input_is_one_clear_error(store, args, message):
    video = store.recording("a.mp4", recorded=OLD)
    full = args if "--zone" in args else ["--zone", store.zone.name, *args]
    with pytest.raises(CommandError, match=message):
        run("purge_expired", *full)
    video.refresh_from_db()
    assert video.delete_date is None and store.files() == {"a.mp4"}


@pytest.mark.django_db(transaction=True)
def test_purge_expired_on_a_terminal_shows_progress(store):
    for n in range(30):
        store.recording(f"{n}.mp4", recorded=OLD)
    env = {**os.environ, **subprocess_db_env(), "OPVIDEO_PURGE_BATCH_SIZE": "7"}
    primary, secondary = pty.openpty()
    # A terminal 100 columns wide (a fresh pty has none, and tqdm draws nothing in 0).
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        result = subprocess.run(
            [PYTHON, str(REPO / "manage.py"), "purge_expired", "--zone", store.zone.name],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=secondary,
            text=True,
            timeout=120,
            check=False,
        )
        os.close(secondary)
        terminal = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the other side is closed and drained
                break
            if not chunk:
                break
            terminal += chunk
    finally:
        os.close(primary)

    assert result.returncode == 0, terminal.decode(errors="replace")
    shown = terminal.decode(errors="replace")
    assert f"purge {store.zone.name}" in shown
    assert "30/30" in shown and "100%" in shown
    assert "deleted 30," in result.stdout
    assert "purge" not in result.stdout.replace(f"zone {store.zone.name}", "")


@pytest.mark.django_db(transaction=True)
def test_purge_expired_subprocess_refuses_a_future_day_with_one_line(store):
    result = manage(
        "purge_expired",
        "--zone",
        store.zone.name,
        "--today",
        (TODAY + timedelta(days=2)).isoformat(),
        env=subprocess_db_env(),
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("CommandError")]
    assert len(errors) == 1 and "future" in errors[0]


# --- a legal hold placed while the purge runs wins ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_hold_placed_during_the_run_wins(store):
    videos = [store.recording(f"{n:02}.mp4", recorded=OLD) for n in range(12)]
    target = videos[7]  # in the second batch of five
    database = connection.settings_dict["NAME"]
    env = {**os.environ, **subprocess_db_env(), "OPVIDEO_PURGE_BATCH_SIZE": "5"}
    with transaction.atomic():
        # The hold takes the row lock now and keeps it until this block commits.
        video_legal_hold_set(video=target, hold=True, reason="court order")
        purge = subprocess.Popen(
            [PYTHON, str(REPO / "manage.py"), "purge_expired", "--zone", store.zone.name],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # The first batch is recorded and the second waits for the held row's lock: the
            # purge listed the row before the hold was committed.
            wait_until(
                lambda: (
                    PurgeRun.objects.filter(deleted=5).exists()
                    and statements_running(database=database, containing="FOR UPDATE")
                ),
                what="the purge to wait for the held row",
            )
        except BaseException:
            purge.kill()
            raise
    out, err = purge.communicate(timeout=120)

    assert purge.returncode == 0, err
    assert "deleted 11," in out and "skipped 1," in out
    assert store.files() == {target.file_name}
    target.refresh_from_db()
    assert target.legal_hold and target.delete_date is None


# --- reconcile ------------------------------------------------------------------------------


@pytest.fixture
def drifted(store):
    """A zone whose rows and files disagree in every way reconcile knows."""
    store.recording("ok.mp4", recorded=TODAY)
    store.recording("lost.mp4", recorded=TODAY, file=False)
    store.recording("deep/lost.mp4", recorded=TODAY, file=False)
    store.recording(
        "held-lost.mp4", recorded=TODAY, file=False, legal_hold=True, legal_hold_reason="court"
    )
    store.recording("../escape.mp4", recorded=TODAY, file=False)
    store.recording("done.mp4", recorded=OLD, delete_date=TODAY)  # file still there
    (store.root / "stray.mp4").write_bytes(b"s" * 70)
    (store.root / "op7").mkdir()
    (store.root / "op7" / "stray2.mp4").write_bytes(b"s" * 30)
    (store.root / ".stray.mp4.Xa1b2c").write_bytes(b"upload in progress")
    (store.root / "out-link.mp4").symlink_to(store.outside / "secret.mp4")
    (store.root / "lost+found").mkdir()
    (store.root / "lost+found" / "#1234").write_bytes(b"fsck")
    return store


@pytest.mark.django_db
def test_reconcile_reports_without_changing_anything(drifted):
    before = drifted.files()

    out = run("reconcile", "--zone", drifted.zone.name)

    assert "missing: lost.mp4" in out and "missing: deep/lost.mp4" in out
    assert "missing, on legal hold: held-lost.mp4" in out
    assert "unsafe name: ../escape.mp4" in out
    assert "recorded deleted, file present: done.mp4" in out
    assert "orphan, too new to delete: stray.mp4 (70 bytes)" in out
    assert "orphan, too new to delete: op7/stray2.mp4 (30 bytes)" in out
    assert "stray.mp4.Xa1b2c" not in out and "out-link" not in out and "#1234" not in out
    assert "missing files: 3 (on legal hold: 1), marked deleted: 0" in out
    assert drifted.files() == before
    assert Video.objects.filter(delete_date__isnull=False).count() == 1


@pytest.mark.django_db
def test_reconcile_fix_records_missing_files_but_never_a_held_one(drifted):
    out = run("reconcile", "--zone", drifted.zone.name, "--fix")

    assert "marked deleted: 2" in out
    deleted = set(Video.objects.filter(delete_date=TODAY).values_list("file_name", flat=True))
    assert deleted == {"lost.mp4", "deep/lost.mp4", "done.mp4"}
    held = Video.objects.get(file_name="held-lost.mp4")
    assert held.delete_date is None and held.legal_hold
    assert Video.objects.get(file_name="ok.mp4").delete_date is None
    assert Video.objects.get(file_name="../escape.mp4").delete_date is None
    assert (drifted.root / "stray.mp4").exists()  # --fix never deletes a file


@pytest.mark.django_db
def test_reconcile_deletes_only_old_enough_orphans_and_only_when_asked(drifted):
    run("reconcile", "--zone", drifted.zone.name, "--delete-orphans")
    assert (drifted.root / "stray.mp4").exists()  # arrived just now: maybe being registered

    out = run("reconcile", "--zone", drifted.zone.name, "--delete-orphans", "--orphan-min-age", "0")

    assert "orphan deleted: stray.mp4 (70 bytes)" in out
    assert "orphan deleted: op7/stray2.mp4 (30 bytes)" in out
    assert drifted.files() == {
        "ok.mp4",
        "done.mp4",
        "op7",
        ".stray.mp4.Xa1b2c",
        "out-link.mp4",
        "lost+found",
        "lost+found/#1234",
    }
    assert (drifted.outside / "secret.mp4").exists()


@pytest.mark.django_db
def test_reconcile_refuses_to_run_without_the_storage_directory(store):
    video = store.recording("a.mp4", recorded=TODAY, file=False)
    store.root.rmdir()
    with pytest.raises(CommandError, match="is the storage mounted"):
        run("reconcile", "--zone", store.zone.name, "--fix")
    video.refresh_from_db()
    assert video.delete_date is None


@pytest.mark.django_db
def test_reconcile_walks_in_batches(store):
    for n in range(7):
        store.recording(f"r{n}.mp4", recorded=TODAY, file=n % 2 == 0)
        (store.root / f"o{n}.mp4").write_bytes(b"o")
    seen = []
    summary = videos_reconcile(
        zone=store.zone, batch_size=3, report=lambda f, n, d: seen.append((f, n))
    )
    assert (summary.rows_checked, summary.files_checked) == (7, 11)
    assert (summary.missing, summary.orphans) == (3, 7)
    assert len(seen) == 10


@pytest.mark.django_db
def test_reconcile_unknown_zone(store):
    with pytest.raises(CommandError, match="no zone named"):
        run("reconcile", "--zone", "nowhere")
