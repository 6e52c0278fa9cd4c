"""The zone worker's media read: real ffprobe and ffmpeg on recordings the tests make, a real
storage directory, real MariaDB. What each recording is, when its call began, who took it,
and its previews beside it under PATH_DST/.previews, never anywhere else."""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from storage.integrity import videos_verify_integrity
from storage.media import read as read_module
from storage.media.previews import previews_make, sprite_plan, thumbs_vtt
from storage.media.probe import keyframe_gap_max, media_probe
from storage.media.read import GONE_REASON, MediaReadError, videos_media_read
from storage.models import MediaState, PurgeRun, Video, VideoNote
from storage.reconcile import videos_reconcile
from storage.retention import retention_today, videos_purge_expired
from storage.samples import sample_mp4_make
from storage.tasks import media_read_zone, task_route
from tests.helpers import manage, subprocess_db_env
from zones.media_schedule import MEDIA_SCHEDULE, MEDIA_TASK_NAME
from zones.services import zone_delete, zone_update

SESSION = "node_0_domain_0_nauss_0_1629126106_172352"
TODAY = retention_today()


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, Path]:
    """Recordings made once for the module: a short one, a longer one, and one whose index
    is at the end (as a recorder writing as it goes leaves it)."""
    base = tmp_path_factory.mktemp("samples")
    return {
        "short": sample_mp4_make(path=base / "short.mp4", seconds=7, rate=5),
        "long": sample_mp4_make(path=base / "long.mp4", seconds=31, rate=5),
        "index_last": sample_mp4_make(path=base / "last.mp4", seconds=7, rate=5, faststart=False),
    }


def put(store, name: str, source: Path, *, mtime: datetime | None = None, **fields) -> Video:
    path = store.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, path)
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return store.recording(name, recorded=TODAY, size=path.stat().st_size, file=False, **fields)


def run(store, **options):
    return videos_media_read(zone=store.zone, now=timezone.now(), **options)


def probe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", str(path)],
        capture_output=True,
        check=True,
    ).stdout
    return json.loads(out)["streams"][0]


def previews_of(store, name: str) -> Path:
    return store.root / ".previews" / name


@pytest.mark.django_db(transaction=True)
def test_a_named_recording_gets_its_start_size_codec_and_previews(store, samples, settings):
    settings.TIME_ZONE = "Europe/Moscow"
    name = f"op101/2026-11-27_10-15-02_{SESSION}.mp4"
    # Written half a minute after the 7 s ended (copied, closed late): the file's own times
    # would give 07:15:32, the stamp 07:15:02.
    video = put(store, name, samples["short"], mtime=datetime(2026, 11, 27, 7, 15, 39, tzinfo=UTC))

    summary = run(store)

    video.refresh_from_db()
    assert (summary.read, summary.previews, summary.failed) == (1, 1, 0)
    assert video.media_state == MediaState.DONE and video.media_error == ""
    # The start as the recorder's stamp says, in Moscow time.
    assert video.started_at == datetime(2026, 11, 27, 7, 15, 2, tzinfo=UTC)
    assert video.duration == pytest.approx(7, abs=0.2)
    assert (video.width, video.height, video.codec) == (640, 360, "h264")
    assert video.operator == ""
    # 7 s: a tile every 2 s, four of them in one row.
    assert video.preview == {
        "interval": 2,
        "tile_width": 160,
        "tile_height": 90,
        "columns": 4,
        "count": 4,
    }
    here = previews_of(store, name)
    assert sorted(p.name for p in here.iterdir()) == ["poster.jpg", "sprite.jpg", "thumbs.vtt"]
    poster, sprite = probe(here / "poster.jpg"), probe(here / "sprite.jpg")
    assert (poster["codec_name"], poster["width"], poster["height"]) == ("mjpeg", 640, 360)
    assert (sprite["codec_name"], sprite["width"], sprite["height"]) == ("mjpeg", 640, 90)
    assert (here / "thumbs.vtt").read_text().splitlines()[:4] == [
        "WEBVTT",
        "",
        "00:00:00.000 --> 00:00:02.000",
        "sprite.jpg#xywh=0,0,160,90",
    ]
    # Readable by the storage user's group (nginx), by nobody else.
    for path, mode in (
        (store.root / ".previews", 0o750),
        (here, 0o750),
        (here / "poster.jpg", 0o640),
    ):
        assert stat.S_IMODE(path.stat().st_mode) == mode
    # The recording itself is as it was, and nothing else appeared beside it.
    assert (store.root / name).read_bytes() == samples["short"].read_bytes()
    assert {p for p in store.files() if not p.startswith(".previews")} == {"op101", name}


@pytest.mark.django_db(transaction=True)
def test_without_a_time_in_the_name_the_call_began_its_duration_before_the_file_was_done(
    store, samples
):
    finished = datetime(2026, 11, 28, 9, 30, 0, tzinfo=UTC)
    video = put(store, f"op101/{SESSION}.mp4", samples["short"], mtime=finished)

    run(store)

    video.refresh_from_db()
    expected = finished - timedelta(seconds=video.duration)
    assert abs(video.started_at - expected) < timedelta(milliseconds=1)
    assert video.started_at < finished - timedelta(seconds=6.8)


@pytest.mark.parametrize(
    ("stamp", "finished_msk", "from_name"),
    [
        # mtime 30 s after the recording's end, so the name and the file's times disagree
        ("2026-11-27_10-15-02", datetime(2026, 11, 27, 10, 15, 39), True),  # the same day
        ("2026-11-27_23-58-00", datetime(2026, 11, 28, 0, 0, 37), True),  # across midnight
        ("2019-03-01_10-00-00", datetime(2026, 11, 28, 10, 0, 7), False),  # years ago
        ("2031-01-01_10-00-00", datetime(2026, 11, 28, 10, 0, 7), False),  # in the future
    ],
)
@pytest.mark.django_db(transaction=True)
def test_the_start_comes_from_the_name_only_within_a_day_of_the_file(
    store, samples, settings, stamp, finished_msk, from_name
):
    settings.TIME_ZONE = "Europe/Moscow"
    finished = timezone.make_aware(finished_msk)
    video = put(store, f"op101/{stamp}_{SESSION}.mp4", samples["short"], mtime=finished)

    run(store)

    video.refresh_from_db()
    named = timezone.make_aware(datetime.strptime(stamp, "%Y-%m-%d_%H-%M-%S"))
    from_file = finished - timedelta(seconds=video.duration)
    expected = named if from_name else from_file
    assert abs(video.started_at - expected) < timedelta(milliseconds=1)
    assert abs(named - from_file) > timedelta(seconds=20)  # the two rules tell apart


@pytest.mark.django_db(transaction=True)
def test_a_modification_time_ahead_of_the_clock_does_not_start_a_call_in_the_future(store, samples):
    ahead = timezone.now() + timedelta(days=2)
    video = put(store, f"op101/{SESSION}.mp4", samples["short"], mtime=ahead)
    run(store)
    video.refresh_from_db()
    assert video.started_at <= timezone.now() - timedelta(seconds=6)


@pytest.mark.django_db(transaction=True)
def test_the_operator_comes_from_the_zones_pattern(store, samples, settings):
    settings.TIME_ZONE = "Europe/Moscow"
    zone_update(
        zone=store.zone,
        file_name_pattern=(
            r"^(?P<operator>[a-z0-9.]+)_(?P<date>\d{8})_(?P<time>\d{6})_(?P<session_id>node\S+)\.mp4$"
        ),
    )
    # Finished at 00:00:08 on the 28th in Moscow: the name's date is the day before.
    finished = datetime(2026, 11, 27, 21, 0, 8, tzinfo=UTC)
    named = put(
        store, f"op101/i.petrova_20261127_235501_{SESSION}.mp4", samples["short"], mtime=finished
    )
    other = put(store, f"op101/{SESSION}.mp4", samples["short"])  # the pattern finds nothing

    run(store)

    named.refresh_from_db()
    other.refresh_from_db()
    assert named.operator == "i.petrova"
    assert named.started_at == datetime(2026, 11, 27, 20, 55, 1, tzinfo=UTC)
    assert other.operator == "" and other.media_state == MediaState.DONE


@pytest.mark.django_db(transaction=True)
def test_a_cyrillic_name_gets_its_previews_under_the_same_name(store, samples):
    name = "оператор 7/Звонок клиента № 5.mp4"
    video = put(store, name, samples["short"])
    run(store)
    video.refresh_from_db()
    assert video.media_state == MediaState.DONE
    assert video.preview["count"] == 4
    assert (previews_of(store, name) / "sprite.jpg").stat().st_size > 0


@pytest.mark.django_db(transaction=True)
def test_a_longer_recording_gets_a_grid_and_a_cue_per_tile(store, samples):
    name = f"op101/{SESSION}.mp4"
    video = put(store, name, samples["long"])
    run(store)
    video.refresh_from_db()
    assert video.preview == {
        "interval": 2,
        "tile_width": 160,
        "tile_height": 90,
        "columns": 10,
        "count": 16,
    }
    sprite = probe(previews_of(store, name) / "sprite.jpg")
    assert (sprite["width"], sprite["height"]) == (1600, 180)
    cues = (previews_of(store, name) / "thumbs.vtt").read_text().strip().split("\n\n")[1:]
    assert len(cues) == 16
    assert cues[11] == "00:00:22.000 --> 00:00:24.000\nsprite.jpg#xywh=160,90,160,90"
    assert cues[-1] == "00:00:30.000 --> 00:00:31.000\nsprite.jpg#xywh=800,90,160,90"


def keyframes_every(source: Path, target: Path, *, frames: int) -> Path:
    """``source`` re-encoded with a keyframe every ``frames`` frames (recorders differ)."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(source), "-c:v", "libx264", "-g", str(frames),
         "-keyint_min", str(frames), "-sc_threshold", "0", "-c:a", "copy", str(target)],
        check=True,
    )  # fmt: skip
    return target


@pytest.mark.parametrize(("frames", "keyframes_only"), [(5, True), (100, False)])
def test_the_sprite_reads_keyframes_only_where_they_are_as_dense_as_its_tiles(
    samples, tmp_path, frames, keyframes_only
):
    """31 s at 5 fps, a tile every 2 s: a keyframe every second lets the sprite skip the
    other frames; one every 20 s does not (each tile would show a frame up to 20 s old)."""
    source = keyframes_every(samples["long"], tmp_path / "k.mp4", frames=frames)
    fd = os.open(source, os.O_RDONLY)
    try:
        found = media_probe(fd=fd)
        gap = keyframe_gap_max(fd=fd, duration=found.duration)
        out = tmp_path / "previews"
        out.mkdir()
        dir_fd = os.open(out, os.O_RDONLY)
        try:
            geometry = previews_make(fd=fd, probe=found, dir_fd=dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        os.close(fd)
    assert (gap <= geometry["interval"]) is keyframes_only, gap
    # A tile every 2 s either way (from keyframes only, the last, at 30 s, may be missed).
    assert geometry["count"] in (15, 16)
    assert probe(out / "sprite.jpg")["width"] == 1600


@pytest.mark.django_db(transaction=True)
def test_unreadable_recordings_are_marked_with_a_reason_and_the_run_goes_on(
    store, samples, tmp_path
):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video at all " * 500)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(samples["index_last"].read_bytes()[:20_000])  # the index never came
    rows = {
        "garbage": put(store, "op101/garbage.mp4", garbage),
        "cut": put(store, "op101/cut.mp4", cut),
        "missing": store.recording("op101/gone.mp4", recorded=TODAY, file=False),
        "good": put(store, "op101/good.mp4", samples["short"]),
    }
    (store.root / "op101" / "dir.mp4").mkdir()
    rows["directory"] = store.recording("op101/dir.mp4", recorded=TODAY, file=False)

    summary = run(store)

    for row in rows.values():
        row.refresh_from_db()
    assert (summary.read, summary.failed) == (1, 4)
    assert rows["good"].media_state == MediaState.DONE
    errors = {key: row.media_error for key, row in rows.items() if key != "good"}
    assert errors == {
        "garbage": "ffprobe: Invalid data found when processing input",
        "cut": "ffprobe: moov atom not found; Invalid data found when processing input",
        "missing": "the file is not on storage",
        "directory": "not a regular file",
    }
    for key in errors:
        assert rows[key].media_state == MediaState.FAILED
        assert rows[key].duration is None and rows[key].preview is None
        assert not previews_of(store, rows[key].file_name).exists()
    # Failed rows are not tried again at every run.
    assert run(store).failed == 0


@pytest.mark.django_db(transaction=True)
def test_a_recording_cut_short_after_its_index_gets_the_tiles_it_has(store, samples, tmp_path):
    data = samples["long"].read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 5])  # index first: the duration is still known
    video = put(store, "op101/cut.mp4", cut)
    run(store)
    video.refresh_from_db()
    assert video.media_state == MediaState.DONE
    assert video.duration == pytest.approx(31, abs=0.2)
    assert 1 <= video.preview["count"] < 16


@pytest.mark.django_db(transaction=True)
def test_deleted_rows_are_not_read_and_leave_the_pending_range(store, samples):
    kept = put(store, "op101/a.mp4", samples["short"])
    gone = put(store, "op101/b.mp4", samples["short"], delete_date=TODAY)

    summary = run(store)

    kept.refresh_from_db()
    gone.refresh_from_db()
    assert (summary.read, summary.gone) == (1, 1)
    assert (gone.media_state, gone.media_error, gone.duration) == (
        MediaState.FAILED,
        GONE_REASON,
        None,
    )
    assert not previews_of(store, "op101/b.mp4").exists()


@pytest.mark.django_db(transaction=True)
def test_running_again_changes_nothing_and_a_reset_row_is_read_the_same(store, samples):
    name = "op101/a.mp4"
    video = put(store, name, samples["short"])
    run(store)
    first = Video.objects.values().get(pk=video.pk)
    sprite = (previews_of(store, name) / "sprite.jpg").read_bytes()

    assert run(store).read == 0
    assert Video.objects.values().get(pk=video.pk) == first

    Video.objects.filter(pk=video.pk).update(media_state=MediaState.PENDING, preview=None)
    assert run(store).read == 1
    assert Video.objects.values().get(pk=video.pk) == first
    assert (previews_of(store, name) / "sprite.jpg").read_bytes() == sprite
    # Only the three files: no temporary file left behind by the rewrite.
    assert len(list(previews_of(store, name).iterdir())) == 3


@pytest.mark.django_db(transaction=True)
def test_a_run_is_bounded_and_the_next_one_continues_newest_first(store, samples):
    videos = [put(store, f"op101/{n}.mp4", samples["short"]) for n in range(3)]

    first = run(store, limit=2)

    assert (first.read, first.stopped_early, first.pending_left) == (2, True, 1)
    states = {v.pk: Video.objects.get(pk=v.pk).media_state for v in videos}
    assert states[videos[0].pk] == MediaState.PENDING  # the oldest waits
    assert run(store, budget_seconds=0).read == 0
    assert run(store).read == 1


@pytest.mark.django_db(transaction=True)
def test_previews_are_never_written_through_a_link(store, samples):
    (store.root / ".previews").symlink_to(store.outside)
    video = put(store, "op101/a.mp4", samples["short"])
    before = sorted(p.name for p in store.outside.rglob("*"))

    run(store)

    video.refresh_from_db()
    # Read all the same; no previews, and why.
    assert video.media_state == MediaState.DONE and video.duration
    assert video.preview is None
    assert video.media_error == "no previews: previews: a symbolic link is in the way: .previews"
    assert sorted(p.name for p in store.outside.rglob("*")) == before


@pytest.mark.django_db(transaction=True)
def test_a_run_refuses_to_start_without_its_storage(store, samples):
    video = put(store, "op101/a.mp4", samples["short"])
    shutil.rmtree(store.root)
    with pytest.raises(MediaReadError, match="nothing was read"):
        run(store)
    assert Video.objects.get(pk=video.pk).media_state == MediaState.PENDING


@pytest.mark.parametrize(
    ("duration", "interval", "count", "columns"),
    [(1, 2, 1, 1), (7, 2, 4, 4), (31, 2, 16, 10), (1800, 12, 150, 10), (8 * 3600, 192, 150, 10)],
)
def test_a_sprite_has_at_most_about_150_tiles_of_160_px(duration, interval, count, columns):
    plan = sprite_plan(duration=duration, width=1920, height=1080)
    assert (plan.interval, plan.count, plan.columns) == (interval, count, columns)
    assert (plan.tile_width, plan.tile_height) == (160, 90)
    cues = thumbs_vtt(geometry=plan.geometry(count=plan.count), duration=duration)
    assert cues.count(" --> ") == count


def test_a_tile_keeps_the_pictures_proportions():
    assert sprite_plan(duration=60, width=1280, height=1024).tile_height == 128
    assert sprite_plan(duration=60, width=1080, height=1920).tile_height == 284


@pytest.mark.django_db(transaction=True)
def test_the_integrity_check_and_reconcile_never_take_previews_for_recordings(store, samples):
    for n in range(2):
        put(store, f"op101/{n}.mp4", samples["short"])
    run(store)
    assert len([p for p in (store.root / ".previews").rglob("*") if p.is_file()]) == 6

    checked = videos_verify_integrity(zone=store.zone, now=timezone.now())
    reconciled = videos_reconcile(zone=store.zone, delete_orphans=True, orphan_min_age=timedelta(0))

    assert (checked.checked, checked.ok, checked.findings) == (2, 2, 0)
    assert (reconciled.files_checked, reconciled.orphans, reconciled.orphans_deleted) == (2, 0, 0)
    assert len([p for p in (store.root / ".previews").rglob("*") if p.is_file()]) == 6


# --- deleted with the recording ------------------------------------------------------------


def note_on(video: Video, text: str = "a moment") -> VideoNote:
    return VideoNote.objects.create(video=video, at_seconds=3.5, text=text, author_name="qa")


@pytest.mark.django_db(transaction=True)
def test_the_purge_deletes_a_recordings_previews_and_notes_with_it(store, samples):
    old = TODAY - timedelta(days=400)
    expired = put(store, "op101/old.mp4", samples["short"])
    gone = store.recording("op101/gone.mp4", recorded=old, file=False)  # its file lost
    held = put(store, "op101/held.mp4", samples["short"], legal_hold=True)
    kept = put(store, "op101/kept.mp4", samples["short"])
    run(store)
    Video.objects.filter(pk__in=[expired.pk, held.pk]).update(recording_date=old)
    # Previews of the lost one are there (made before its file went).
    shutil.copytree(previews_of(store, "op101/old.mp4"), previews_of(store, "op101/gone.mp4"))
    for video in (expired, gone, held, kept):
        note_on(video)

    summary = videos_purge_expired(zone=store.zone)

    assert (summary.deleted, summary.missing) == (1, 1)
    assert not previews_of(store, "op101/old.mp4").exists()
    assert not previews_of(store, "op101/gone.mp4").exists()
    assert set(VideoNote.objects.values_list("video", flat=True)) == {held.pk, kept.pk}
    for video in (held, kept):
        assert len(list(previews_of(store, video.file_name).iterdir())) == 3
    # The workstation's directory of previews stays for its next recordings.
    assert (store.root / ".previews" / "op101").is_dir()
    assert PurgeRun.objects.get().problems == ""


@pytest.mark.django_db(transaction=True)
def test_previews_a_purge_cannot_delete_are_reported_and_the_recording_still_goes(store, samples):
    video = put(store, "op101/old.mp4", samples["short"])
    run(store)
    Video.objects.filter(pk=video.pk).update(recording_date=TODAY - timedelta(days=400))
    # Something that is not a preview inside its previews directory: not ours to delete.
    (previews_of(store, "op101/old.mp4") / "keep").mkdir()

    summary = videos_purge_expired(zone=store.zone)

    assert summary.deleted == 1
    assert Video.objects.get(pk=video.pk).delete_date == retention_today()  # not TODAY: midnight
    problem = "left a directory that is not a preview: keep"
    assert problem in PurgeRun.objects.get().problems
    assert sorted(p.name for p in previews_of(store, "op101/old.mp4").iterdir()) == ["keep"]


@pytest.mark.django_db(transaction=True)
def test_reconcile_fix_drops_the_previews_and_notes_of_a_file_it_records_gone(store, samples):
    video = put(store, "op101/a.mp4", samples["short"])
    run(store)
    note_on(video)
    (store.root / "op101" / "a.mp4").unlink()

    summary = videos_reconcile(zone=store.zone, fix=True)

    assert summary.marked_deleted == 1
    assert not VideoNote.objects.exists()
    assert not previews_of(store, "op101/a.mp4").exists()
    # Reconcile never takes a preview for a recording without a row.
    assert summary.orphans == 0


@pytest.mark.django_db(transaction=True)
def test_previews_made_for_a_row_deleted_meanwhile_are_taken_away_again(
    store, samples, monkeypatch
):
    video = put(store, "op101/a.mp4", samples["short"])
    # The purge records the row deleted while the read makes its previews (the read's lock
    # on the row comes after): a race made to happen here, not a component replaced.
    store_row = read_module._store

    def purged_first(**kwargs):
        Video.objects.filter(pk=video.pk).update(delete_date=TODAY)
        return store_row(**kwargs)

    monkeypatch.setattr(read_module, "_store", purged_first)
    summary = run(store)

    assert summary.read == 0
    assert Video.objects.get(pk=video.pk).duration is None
    assert not previews_of(store, "op101/a.mp4").exists()


# --- the schedule, the task and the command --------------------------------------------------


@pytest.mark.django_db
def test_an_enabled_zone_has_its_media_entry_on_its_own_queue(store, settings):
    entry = MEDIA_SCHEDULE.entry(zone=store.zone)
    assert entry.task == MEDIA_TASK_NAME
    assert entry.queue == f"zone.{store.zone.name}"
    assert json.loads(entry.args) == [store.zone.pk]
    assert entry.interval.every == settings.OPVIDEO_MEDIA_INTERVAL_MINUTES == 5
    assert entry.expire_seconds == 300
    assert task_route(MEDIA_TASK_NAME, [store.zone.pk], {}, {}) == {"queue": entry.queue}

    zone_update(zone=store.zone, enabled=False)
    assert MEDIA_SCHEDULE.entry(zone=store.zone) is None
    zone_update(zone=store.zone, enabled=True)
    MEDIA_SCHEDULE.entry(zone=store.zone).delete()  # as after adopting a database

    call_command("sync_purge_schedules", stdout=(out := io.StringIO()))

    assert f"{store.zone.name} (media read): created" in out.getvalue()
    assert MEDIA_SCHEDULE.entry(zone=store.zone).queue == f"zone.{store.zone.name}"
    zone_delete(zone=store.zone)
    assert MEDIA_SCHEDULE.entry(zone=store.zone) is None


@pytest.mark.django_db(transaction=True)
def test_the_task_reads_its_zone_and_the_command_says_what_it_did(store, samples, settings):
    video = put(store, "op101/a.mp4", samples["short"])
    put(store, "op101/b.mp4", samples["short"])

    result = media_read_zone(store.zone.pk)

    assert (result["zone"], result["read"], result["previews"]) == (store.zone.name, 2, 2)
    assert Video.objects.get(pk=video.pk).media_state == MediaState.DONE
    Video.objects.filter(zone=store.zone).update(media_state=MediaState.PENDING)

    env = subprocess_db_env()
    out = manage("media_read", "--zone", store.zone.name, "--limit", "1", env=env).stdout
    assert out.startswith(f"zone {store.zone.name}: read 1 (with previews 1), failed 0")
    assert "still pending 1" in out
    bad = manage("media_read", "--zone", store.zone.name, "--limit", "0", env=env, check=False)
    assert bad.returncode == 1 and "--limit must be a positive whole number" in bad.stderr
    shutil.rmtree(store.root)
    down = manage("media_read", "--zone", store.zone.name, env=env, check=False)
    assert down.returncode == 1 and "is not a directory on this host" in down.stderr
    assert "nothing was read" in down.stderr
