"""The integrity check (fixity) on real files in a real PATH_DST and MariaDB: what it finds,
what it never does (follow a link, repair, report the same thing twice), how fast it reads,
and the command, the scheduled task through a real worker and the page that show it."""

from __future__ import annotations

import hashlib
import json
import os
import time
import unicodedata
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.schedulers import DatabaseScheduler

from opvideo.celery import app
from storage.integrity import IntegrityCheckError, videos_verify_integrity
from storage.models import HashOrigin, IntegrityFinding, Video
from storage.tasks import task_route
from tests.factories import make_video
from tests.helpers import manage, subprocess_db_env, wait_until
from tests.services.celery import worker
from tests.storage.test_retention_grants import as_rm, rm_account  # noqa: F401 - fixture
from zones.fixity_schedule import FIXITY_TASK_NAME, fixity_schedule_name, zone_fixity_schedule
from zones.services import zone_update

pytestmark = pytest.mark.django_db


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored(store, name: str, data: bytes, *, hashed: bool = True, **fields) -> Video:
    """A recording's file under PATH_DST and its row, with the workstation's hash."""
    path = store.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if hashed:
        fields.setdefault("content_hash", sha256(data))
        fields.setdefault("hash_origin", HashOrigin.WORKSTATION)
    return make_video(zone=store.zone, file_name=name, size=len(data), **fields)


def flip_byte(path, offset: int = 100) -> None:
    with path.open("r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0xFF]))


def run(store, **options):
    return videos_verify_integrity(zone=store.zone, now=timezone.now(), mb_per_s=0, **options)


def test_an_intact_recording_is_verified_and_not_due_again(store):
    data = os.urandom(300_000)
    video = stored(store, "op1/call.mp4", data)

    summary = run(store)
    again = run(store)

    video.refresh_from_db()
    assert (summary.checked, summary.ok, summary.findings) == (1, 1, 0)
    assert summary.bytes_read == len(data)
    assert video.integrity_ok is True and video.integrity_checked_at is not None
    assert video.hash_origin == HashOrigin.WORKSTATION
    assert again.checked == 0  # checked now: not due for OPVIDEO_FIXITY_DAYS
    assert not IntegrityFinding.objects.exists()


def test_a_row_checked_longer_ago_than_the_period_is_due(store, settings):
    video = stored(store, "old.mp4", b"x" * 1000)
    Video.objects.filter(pk=video.pk).update(
        integrity_checked_at=timezone.now() - timedelta(days=settings.OPVIDEO_FIXITY_DAYS + 1),
        integrity_ok=True,
    )
    stored(store, "deleted.mp4", b"y" * 1000, delete_date=timezone.localdate())

    summary = run(store)

    assert summary.checked == 1  # the deleted row is done: skipped
    video.refresh_from_db()
    assert video.integrity_checked_at > timezone.now() - timedelta(minutes=1)


def test_a_flipped_byte_is_a_finding_reported_once_and_never_repaired(store):
    data = os.urandom(200_000)
    video = stored(store, "op1/flip.mp4", data)
    flip_byte(store.root / "op1/flip.mp4")
    changed = (store.root / "op1/flip.mp4").read_bytes()

    first = run(store)
    Video.objects.filter(pk=video.pk).update(integrity_checked_at=None)  # due again
    second = run(store)

    finding = IntegrityFinding.objects.get()
    assert (first.failed, first.findings, second.failed, second.findings) == (1, 1, 1, 0)
    assert finding.kind == IntegrityFinding.Kind.MISMATCH
    assert finding.video == video and finding.zone == store.zone
    assert finding.file_name == "op1/flip.mp4" and finding.zone_name == store.zone.name
    assert finding.expected_hash == sha256(data)
    assert finding.actual_hash == sha256(changed)
    assert finding.expected_size == finding.actual_size == len(data)
    video.refresh_from_db()
    assert video.integrity_ok is False
    assert video.content_hash == sha256(data)  # the row's evidence is kept as it was
    assert (store.root / "op1/flip.mp4").read_bytes() == changed  # the file too


def test_a_changed_outcome_is_reported_again_and_a_restored_file_is_intact(store):
    data = os.urandom(50_000)
    video = stored(store, "c.mp4", data)
    path = store.root / "c.mp4"
    path.unlink()
    run(store)
    Video.objects.filter(pk=video.pk).update(integrity_checked_at=None)
    path.write_bytes(data[:-1])  # something came back, shorter
    run(store)
    Video.objects.filter(pk=video.pk).update(integrity_checked_at=None)
    path.write_bytes(data)  # restored from a backup
    run(store)

    kinds = list(IntegrityFinding.objects.order_by("id").values_list("kind", "actual_size"))
    assert kinds == [("missing", None), ("size", len(data) - 1)]
    video.refresh_from_db()
    assert video.integrity_ok is True


def test_a_missing_file_is_a_finding(store):
    video = stored(store, "gone.mp4", b"z" * 5000)
    (store.root / "gone.mp4").unlink()

    summary = run(store)

    finding = IntegrityFinding.objects.get()
    assert summary.findings == 1
    assert finding.kind == IntegrityFinding.Kind.MISSING
    assert finding.expected_size == 5000 and finding.actual_size is None
    video.refresh_from_db()
    assert video.integrity_ok is False and video.delete_date is None


def test_a_legacy_row_gets_its_hash_on_storage(store):
    data = os.urandom(70_000)
    legacy = stored(store, "legacy.mp4", data, hashed=False)
    wrong_size = stored(store, "legacy-short.mp4", data, hashed=False)
    Video.objects.filter(pk=wrong_size.pk).update(size=len(data) + 10)

    summary = run(store)

    legacy.refresh_from_db()
    wrong_size.refresh_from_db()
    assert summary.hashed_on_storage == 1
    assert legacy.content_hash == sha256(data)
    assert legacy.hash_origin == HashOrigin.STORAGE and legacy.integrity_ok is True
    assert wrong_size.content_hash is None and wrong_size.integrity_ok is False
    finding = IntegrityFinding.objects.get()
    assert finding.kind == IntegrityFinding.Kind.SIZE
    assert (finding.expected_size, finding.actual_size) == (len(data) + 10, len(data))


NAMES = [
    "Звонок оператора_node_0_domain_0_nauss_0_1629126106_172352.mp4",
    "通话录音 17.mp4",
    "Zázněm hovoru Müller.mp4",
    unicodedata.normalize("NFC", "op2/Запись_й.mp4"),
    unicodedata.normalize("NFD", "op2/Запись_й.mp4"),
]


def test_names_in_any_script_and_both_normalisations_are_read_as_their_own_bytes(store):
    assert NAMES[3] != NAMES[4]  # two distinct names, so two files
    videos = [stored(store, name, os.urandom(10_000 + n)) for n, name in enumerate(NAMES)]
    flip_byte(store.root / NAMES[4])  # only the NFD one

    summary = run(store)

    assert (summary.checked, summary.ok, summary.findings) == (5, 4, 1)
    finding = IntegrityFinding.objects.get()
    assert finding.file_name == NAMES[4] and finding.video == videos[4]
    assert set(Video.objects.filter(integrity_ok=True)) == set(videos[:4])


def test_a_symlink_at_a_recordings_name_is_not_followed(store):
    secret = (store.outside / "secret.mp4").read_bytes()
    os.symlink(store.outside / "secret.mp4", store.root / "link.mp4")
    os.symlink(store.outside / "dir", store.root / "linkdir")
    at_name = make_video(
        zone=store.zone, file_name="link.mp4", size=len(secret), content_hash=sha256(secret)
    )
    in_path = make_video(zone=store.zone, file_name="linkdir/inner.mp4", size=50)
    atime = (store.outside / "secret.mp4").stat().st_atime_ns

    summary = run(store)

    assert (summary.checked, summary.ok, summary.bytes_read) == (2, 0, 0)
    found = {f.video_id: f for f in IntegrityFinding.objects.all()}
    assert found[at_name.pk].kind == IntegrityFinding.Kind.UNREADABLE
    assert "symbolic link" in found[at_name.pk].detail
    assert found[in_path.pk].kind == IntegrityFinding.Kind.UNREADABLE
    assert found[in_path.pk].actual_hash == ""  # the target was never hashed
    assert (store.outside / "secret.mp4").stat().st_atime_ns == atime
    assert os.path.islink(store.root / "link.mp4")  # left as it was


def test_reading_keeps_to_the_budget(store):
    for n in range(4):
        stored(store, f"p{n}.mp4", os.urandom(500_000))  # 2 MB

    summary = videos_verify_integrity(zone=store.zone, now=timezone.now(), mb_per_s=4)

    expected = summary.bytes_read / 4_000_000  # 0.5 s
    assert summary.bytes_read == 2_000_000 and summary.ok == 4
    assert expected * 0.9 <= summary.seconds <= expected * 1.5, summary.seconds


def test_a_run_is_bounded_and_the_rest_waits_for_the_next(store):
    for n in range(5):
        stored(store, f"b{n}.mp4", b"b" * 1000)

    limited = run(store, limit=2)
    timed_out = run(store, budget_seconds=0)
    rest = run(store)

    assert (limited.checked, limited.stopped_early, limited.due_left) == (2, True, 3)
    assert (timed_out.checked, timed_out.stopped_early, timed_out.due_left) == (0, True, 3)
    assert (rest.checked, rest.stopped_early, rest.due_left) == (3, False, 0)


def test_a_budget_that_cannot_cover_the_zone_says_so(store, settings, caplog):
    settings.OPVIDEO_FIXITY_DAYS = 30
    stored(store, "huge.mp4", b"h" * 1000)
    # Rows as big as a real zone's: 40 TB in 30 days needs more than 10 MB/s.
    make_video(zone=store.zone, file_name="big.mp4", size=40 * 10**12)

    summary = videos_verify_integrity(zone=store.zone, now=timezone.now(), mb_per_s=10, limit=1)

    assert summary.behind is True
    assert summary.needed_mb_per_s > 10
    assert "BEHIND schedule" in summary.line()
    assert any("cannot keep up" in r.getMessage() for r in caplog.records)
    assert videos_verify_integrity(zone=store.zone, now=timezone.now(), mb_per_s=0).behind is False


def test_no_storage_directory_checks_nothing(store):
    video = stored(store, "a.mp4", b"a" * 100)
    store.root.rename(store.root.with_name("unmounted"))

    with pytest.raises(IntegrityCheckError, match="not a directory"):
        run(store)

    video.refresh_from_db()
    assert video.integrity_checked_at is None and not IntegrityFinding.objects.exists()


# --- the command ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_command_finds_a_flipped_byte_and_says_so_in_its_exit_status(store, client):
    video = stored(store, "op1/звонок.mp4", os.urandom(100_000))
    stored(store, "op1/fine.mp4", os.urandom(100_000))
    flip_byte(store.root / "op1/звонок.mp4")
    env = {**subprocess_db_env(), "OPVIDEO_FIXITY_MB_PER_S": "0"}

    result = manage("verify_integrity", "--zone", store.zone.name, env=env, check=False)
    again = manage("verify_integrity", "--zone", store.zone.name, env=env, check=False)

    assert result.returncode == 2, result.stderr
    assert f"zone {store.zone.name}: checked 2, ok 1," in result.stdout
    assert "new findings 1" in result.stdout
    assert "1 new integrity finding" in result.stderr and "Traceback" not in result.stderr
    assert again.returncode == 0 and "checked 0" in again.stdout
    finding = IntegrityFinding.objects.get(video=video)
    assert finding.kind == "mismatch"

    client.force_login(User.objects.create_user("qa", password="pw-qa-12345"))
    page = client.get(reverse("search:video", args=[video.pk])).content.decode()
    day = timezone.localtime(finding.found_at).strftime("%d.%m.%Y")
    assert f"Проверка целостности не пройдена {day}" in page
    assert "снят на рабочем месте" in page
    api = client.get(reverse("search:api-videos"), {"session": video.session_id}).json()
    assert api["results"][0]["integrity"] == {
        "state": "failed",
        "checked_at": finding.found_at.isoformat(),
        "hash_origin": "workstation",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--zone", "nowhere"], "no zone named 'nowhere'"),
        (["--limit", "0"], "--limit must be a positive whole number"),
        (["--limit", "many"], "--limit must be a positive whole number"),
    ],
)
@pytest.mark.django_db(transaction=True)
def test_the_command_refuses_bad_input_with_one_line(store, args, message):
    if "--zone" not in args:
        args = ["--zone", store.zone.name, *args]
    result = manage("verify_integrity", *args, env=subprocess_db_env(), check=False)
    assert result.returncode == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.django_db(transaction=True)
def test_the_check_runs_as_the_retention_user(rm_account, store):  # noqa: F811
    flipped = stored(store, "f.mp4", os.urandom(20_000))
    legacy = stored(store, "l.mp4", os.urandom(20_000), hashed=False)
    flip_byte(store.root / "f.mp4")

    result = as_rm(rm_account, "verify_integrity", "--zone", store.zone.name)

    assert result.returncode == 2, result.stderr
    assert "checked 2, ok 1, hashed on storage 1, failed 1, new findings 1" in result.stdout
    assert IntegrityFinding.objects.get().video == flipped
    legacy.refresh_from_db()
    assert legacy.hash_origin == HashOrigin.STORAGE


# --- the schedule and the worker -------------------------------------------------------------


def test_an_enabled_zone_has_its_integrity_entry_on_its_own_queue(store, settings):
    entry = zone_fixity_schedule(zone=store.zone)
    assert entry.task == FIXITY_TASK_NAME
    assert entry.queue == f"zone.{store.zone.name}"
    assert json.loads(entry.args) == [store.zone.pk]
    assert entry.interval.every == settings.OPVIDEO_FIXITY_INTERVAL_MINUTES
    assert task_route(FIXITY_TASK_NAME, [store.zone.pk], {}, {}) == {"queue": entry.queue}

    zone_update(zone=store.zone, enabled=False)
    assert zone_fixity_schedule(zone=store.zone) is None


@pytest.mark.django_db(transaction=True)
def test_the_scheduled_check_finds_a_flipped_byte_through_a_real_worker(
    rm_account,  # noqa: F811
    store,
    broker,
    tmp_path,
    client,
):
    video = stored(store, "sched.mp4", os.urandom(64_000))
    flip_byte(store.root / "sched.mp4")
    scheduler = DatabaseScheduler(app=app, lazy=True)
    entry = scheduler.all_as_schedule()[fixity_schedule_name(zone=store.zone)]
    scheduler.apply_async(entry, advance=False)  # what beat does when the entry is due

    log = tmp_path / "worker.log"
    with worker(store.zone.purge_queue, log, DATABASE_URL=rm_account["url"]):
        wait_until(
            lambda: IntegrityFinding.objects.filter(video=video).exists(),
            what="the worker's integrity check to record the flipped byte",
        )
        time.sleep(0.5)

    assert IntegrityFinding.objects.get().kind == "mismatch"
    assert broker.queued(store.zone) == 0
    client.force_login(User.objects.create_user("qa2", password="pw-qa-12345"))
    page = client.get(reverse("search:video", args=[video.pk])).content.decode()
    assert "Проверка целостности не пройдена" in page


def test_the_admin_lists_findings_read_only_and_shows_a_recordings_hash(store, admin_client):
    video = stored(store, "op1/Звонок админа.mp4", b"q" * 3000)
    (store.root / "op1/Звонок админа.mp4").unlink()
    run(store)

    listing = admin_client.get(
        reverse("admin:storage_integrityfinding_changelist"), {"q": "админа"}
    )
    finding = IntegrityFinding.objects.get()
    detail = admin_client.get(reverse("admin:storage_video_change", args=[video.pk]))

    assert listing.status_code == 200 and "Звонок админа" in listing.content.decode()
    assert "файл отсутствует" in listing.content.decode()
    change = admin_client.get(
        reverse("admin:storage_integrityfinding_change", args=[finding.pk])
    ).content.decode()
    assert 'name="_save"' not in change  # read-only
    assert video.content_hash in detail.content.decode()
    assert "на рабочем месте" in detail.content.decode()
