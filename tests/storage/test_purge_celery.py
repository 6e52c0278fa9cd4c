"""Retention through Celery for real: Redis, MariaDB, and worker processes consuming only
their zone's queue, sent the purge the way beat sends it."""

import json
import os
import signal
from datetime import timedelta

import MySQLdb
import pytest
import redis
from django.db import connection

from storage.models import PurgeRun, Video
from storage.retention import retention_today
from storage.tasks import purge_zone
from tests.helpers import (
    server_connect,
    session_alive,
    statements_running,
    wait_until,
)
from tests.services.celery import beat_send, worker
from tests.storage.conftest import Store, store_make

OLD = retention_today() - timedelta(days=365)


def runs(zone, status: str) -> int:
    return PurgeRun.objects.filter(zone=zone, status=status).count()


def end_state(store: Store) -> tuple[set[str], set[str]]:
    """(names recorded as deleted, files on disk)."""
    deleted = set(
        Video.objects.filter(zone=store.zone, delete_date__isnull=False).values_list(
            "file_name", flat=True
        )
    )
    return deleted, store.files()


@pytest.mark.django_db(transaction=True)
def test_the_zone_worker_runs_the_purge_and_another_zone_s_worker_does_not(tmp_path, broker):
    a = store_make(tmp_path / "a")
    b = store_make(tmp_path / "b")
    expired_a = {a.recording(f"op1/{n}.mp4", recorded=OLD).file_name for n in range(20)}
    a.recording("kept.mp4", recorded=retention_today())
    b.recording("b.mp4", recorded=OLD)

    beat_send(a.zone)
    beat_send(b.zone)
    assert (broker.queued(a.zone), broker.queued(b.zone)) == (1, 1)

    with worker(b.zone.purge_queue, tmp_path / "worker-b.log"):
        wait_until(lambda: runs(b.zone, "finished") == 1, what="zone b's worker to purge zone b")
        # Zone b's worker is up and has done its own purge; zone a's is still waiting.
        assert broker.queued(a.zone) == 1
        assert not PurgeRun.objects.filter(zone=a.zone).exists()
        assert end_state(a) == (set(), expired_a | {"op1", "kept.mp4"})

    with worker(a.zone.purge_queue, tmp_path / "worker-a.log"):
        wait_until(lambda: runs(a.zone, "finished") == 1, what="zone a's worker to purge zone a")

    assert end_state(a) == (expired_a, {"op1", "kept.mp4"})
    run = PurgeRun.objects.get(zone=a.zone)
    assert run.trigger == PurgeRun.Trigger.SCHEDULE
    assert (run.deleted, run.missing, run.refused, run.failed) == (20, 0, 0, 0)
    assert broker.queued(a.zone) == 0


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_purge_and_started_again_reaches_the_same_end_state(tmp_path, broker):
    store = store_make(tmp_path)
    expired = [store.recording(f"{n:03}.mp4", recorded=OLD) for n in range(240)]
    store.recording("kept.mp4", recorded=retention_today())
    store.recording("held.mp4", recorded=OLD, legal_hold=True, legal_hold_reason="court")
    database = connection.settings_dict["NAME"]
    env = {"OPVIDEO_PURGE_BATCH_SIZE": "40", "CELERY_VISIBILITY_TIMEOUT": "1"}
    third_batch = expired[80:120]
    log = tmp_path / "worker.log"

    # Stop the worker twice, deterministically, with two row locks held from outside:
    # first before its third batch, then inside it, after the files are gone but before
    # the batch is committed: the worst moment to die.
    row_lock = _connect(database)
    row_lock.cursor().execute("SELECT id FROM VIDEO WHERE id = %s FOR UPDATE", [third_batch[0].pk])
    beat_send(store.zone)
    with worker(store.zone.purge_queue, log, **env) as first:
        wait_until(
            lambda: (
                PurgeRun.objects.filter(zone=store.zone, deleted=80).exists()
                and statements_running(database=database, containing="FOR UPDATE")
            ),
            what="the worker to reach its third batch",
        )
        run_lock = _connect(database)
        run_lock.cursor().execute(
            "SELECT id FROM storage_purgerun WHERE zone_id = %s FOR UPDATE", [store.zone.pk]
        )
        row_lock.rollback()
        wait_until(
            lambda: statements_running(database=database, containing="`storage_purgerun`"),
            what="the worker to delete the third batch and wait to record it",
        )
        [(session, _sql)] = statements_running(database=database, containing="`storage_purgerun`")
        assert not any((store.root / v.file_name).exists() for v in third_batch)

        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        run_lock.rollback()
        wait_until(
            lambda: not session_alive(database=database, session=session),
            what="MariaDB to end the killed worker's session",
        )

    # Killed: two batches recorded; the third batch's files gone but its rows not recorded.
    deleted, files = end_state(store)
    assert deleted == {v.file_name for v in expired[:80]}
    assert files == {v.file_name for v in expired[120:]} | {"kept.mp4", "held.mp4"}
    assert runs(store.zone, "running") == 1

    # Started again: the message the killed worker never acknowledged is handed out again
    # once it is older than the visibility timeout (1 s here), and finishes the work.
    wait_until(
        lambda: _unacked_age(broker.client, store.zone.purge_queue) > 1.5,
        what="the unacknowledged message to pass the visibility timeout",
    )
    with worker(store.zone.purge_queue, log, **env):
        wait_until(lambda: runs(store.zone, "finished") == 1, what="the purge to be redone")

    assert end_state(store) == ({v.file_name for v in expired}, {"kept.mp4", "held.mp4"})
    interrupted = PurgeRun.objects.get(zone=store.zone, status="interrupted")
    assert interrupted.deleted == 80
    finished = PurgeRun.objects.get(zone=store.zone, status="finished")
    assert (finished.deleted, finished.missing) == (120, 40)
    assert broker.queued(store.zone) == 0
    unacked = broker.client.hvals("unacked")
    assert not [m for m in unacked if store.zone.purge_queue.encode() in m]
    row_lock.close()
    run_lock.close()


def _unacked_age(client: redis.Redis, queue: str) -> float:
    """Seconds since kombu handed out the oldest unacknowledged message of ``queue``."""
    tags = [tag for tag, raw in client.hgetall("unacked").items() if queue.encode() in raw]
    assert tags, f"no unacknowledged message of {queue}"
    delivered = min(client.zscore("unacked_index", tag) for tag in tags)
    seconds, micros = client.time()
    return seconds + micros / 1e6 - delivered


def _connect(database: str) -> MySQLdb.Connection:
    conn = server_connect(database)
    conn.autocommit(False)
    return conn


# --- the task and its routing, without a worker ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_purge_sent_without_a_queue_still_goes_to_its_zone(tmp_path, broker):
    store = store_make(tmp_path)

    purge_zone.delay(store.zone.pk)

    assert broker.queued(store.zone) == 1
    body = json.loads(broker.client.lindex(store.zone.purge_queue, 0))
    assert body["headers"]["task"] == "storage.purge_zone"
    assert body["content-type"] == "application/json"


@pytest.mark.django_db
def test_the_task_purges_an_enabled_zone_and_skips_a_disabled_one(tmp_path):
    store = store_make(tmp_path)
    store.recording("a.mp4", recorded=OLD)

    store.zone.enabled = False
    store.zone.save(update_fields=["enabled"])
    assert purge_zone(store.zone.pk) is None
    assert purge_zone(999_999) is None
    assert store.files() == {"a.mp4"}

    store.zone.enabled = True
    store.zone.save(update_fields=["enabled"])
    summary = purge_zone(store.zone.pk)
    assert summary["deleted"] == 1 and summary["run_id"]
    assert PurgeRun.objects.get().trigger == PurgeRun.Trigger.SCHEDULE
    assert store.files() == set()
