"""A zone's retention worker acts for its own zone only (OPVIDEO_WORKER_ZONE): another
zone's purge, integrity check or media read, even delivered on its queue, is refused and
logged."""

from datetime import timedelta

import pytest

from storage.models import MediaState, PurgeRun, Video
from storage.retention import retention_today
from storage.samples import sample_mp4_make
from storage.tasks import media_read_zone, purge_zone, verify_integrity_zone
from tests.helpers import wait_until
from tests.services.celery import worker
from tests.storage.conftest import store_make

OLD = retention_today() - timedelta(days=365)


def checked(video: Video) -> bool:
    return Video.objects.get(pk=video.pk).integrity_checked_at is not None


def media_state(video: Video) -> str:
    return Video.objects.get(pk=video.pk).media_state


def recording(store, name: str, sample) -> Video:
    (store.root / name).write_bytes(sample.read_bytes())
    return store.recording(name, recorded=retention_today(), size=sample.stat().st_size, file=False)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return sample_mp4_make(path=tmp_path_factory.mktemp("sample") / "s.mp4", seconds=2, rate=5)


@pytest.mark.django_db(transaction=True)
def test_a_zone_worker_refuses_another_zones_tasks_and_runs_its_own(tmp_path, broker, sample):
    own = store_make(tmp_path / "own")
    other = store_make(tmp_path / "other")
    own_expired = own.recording("old.mp4", recorded=OLD)
    own_kept = own.recording("kept.mp4", recorded=retention_today())
    own_call = recording(own, "call.mp4", sample)
    other.recording("old.mp4", recorded=OLD)
    other_kept = other.recording("kept.mp4", recorded=retention_today())
    other_call = recording(other, "call.mp4", sample)
    queue = own.zone.purge_queue
    broker.queued(own.zone)  # the queue is removed afterwards

    # Another zone's tasks on this worker's queue (a message sent by hand to the wrong
    # queue), then its own: the solo worker takes them in that order.
    purge_zone.apply_async(args=[other.zone.pk], queue=queue)
    verify_integrity_zone.apply_async(args=[other.zone.pk], queue=queue)
    media_read_zone.apply_async(args=[other.zone.pk], queue=queue)
    purge_zone.apply_async(args=[own.zone.pk], queue=queue)
    verify_integrity_zone.apply_async(args=[own.zone.pk], queue=queue)
    media_read_zone.apply_async(args=[own.zone.pk], queue=queue)

    log = tmp_path / "worker.log"
    with worker(queue, log, OPVIDEO_WORKER_ZONE=own.zone.name):
        wait_until(
            lambda: (
                PurgeRun.objects.filter(zone=own.zone, status="finished").exists()
                and checked(own_kept)
                and media_state(own_call) == MediaState.DONE
            ),
            what="the worker to run its own zone's purge, integrity check and media read",
        )

    text = log.read_text()
    serves = f"this worker serves zone {own.zone.name} only"
    assert f"purge of zone {other.zone.name} refused: {serves}" in text
    assert f"integrity check of zone {other.zone.name} refused: {serves}" in text
    assert f"media read of zone {other.zone.name} refused: {serves}" in text
    # The other zone: untouched, no run recorded, nothing checked or read.
    assert other.files() == {"old.mp4", "kept.mp4", "call.mp4"}
    assert not PurgeRun.objects.filter(zone=other.zone).exists()
    assert not Video.objects.filter(zone=other.zone, delete_date__isnull=False).exists()
    assert not checked(other_kept)
    assert media_state(other_call) == MediaState.PENDING
    # Its own zone: purged, checked, read, its previews beside the recordings.
    assert {f for f in own.files() if not f.startswith(".previews")} == {"kept.mp4", "call.mp4"}
    assert (own.root / ".previews" / "call.mp4" / "poster.jpg").is_file()
    assert Video.objects.get(pk=own_expired.pk).delete_date is not None
    assert broker.queued(own.zone) == 0


@pytest.mark.django_db
def test_the_tasks_say_refused_for_another_zone_and_run_for_their_own(tmp_path, settings):
    own = store_make(tmp_path / "own")
    other = store_make(tmp_path / "other")
    other.recording("old.mp4", recorded=OLD)
    own.recording("old.mp4", recorded=OLD)
    settings.OPVIDEO_WORKER_ZONE = own.zone.name

    refusal = {"refused": True, "zone": other.zone.name, "worker_zone": own.zone.name}
    assert purge_zone(other.zone.pk) == refusal
    assert verify_integrity_zone(other.zone.pk) == refusal
    assert media_read_zone(other.zone.pk) == refusal
    assert other.files() == {"old.mp4"}
    assert purge_zone(own.zone.pk)["deleted"] == 1
    assert own.files() == set()

    # Unset (``make run``: one process for every zone): nothing is refused.
    settings.OPVIDEO_WORKER_ZONE = ""
    assert purge_zone(other.zone.pk)["deleted"] == 1
    assert other.files() == set()
