"""Celery for real in the tests: worker processes of the project's app on the test database,
beat's own code sending a zone's purge, and Redis as the broker."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from django.conf import settings
from django.utils import timezone
from django_celery_beat.schedulers import DatabaseScheduler

from opvideo.celery import app
from tests.helpers import PYTHON, REPO, subprocess_db_env
from zones.purge_schedule import purge_schedule_name
from zones.services import zone_update


class Broker:
    """The Redis the tests' Celery uses, and the queues a test touched (removed afterwards,
    with kombu's records of who binds to them: every test's zones are new)."""

    def __init__(self) -> None:
        self.client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        self.queues: set[str] = set()

    def queued(self, zone) -> int:
        self.queues.add(zone.purge_queue)
        return self.client.llen(zone.purge_queue)

    def close(self) -> None:
        for queue in self.queues:
            self.client.delete(
                queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
            )
        self.client.close()


def beat_send(zone) -> None:
    """What beat does when the zone's entry is due: django-celery-beat's scheduler loads the
    entry from the database and Celery's Scheduler.apply_async sends it.

    The zone's purge time is set to now first, through the zone service as the admin does:
    beat only loads the crontab entries due within a couple of hours.
    """
    now = timezone.localtime().time().replace(second=0, microsecond=0)
    zone_update(zone=zone, purge_time=now)
    scheduler = DatabaseScheduler(app=app, lazy=True)
    entry = scheduler.all_as_schedule()[purge_schedule_name(zone=zone)]
    assert entry.options["queue"] == zone.purge_queue
    scheduler.apply_async(entry, advance=False)


@contextmanager
def worker(queue: str, log: Path, **env: str) -> Iterator[subprocess.Popen]:
    """``celery -A opvideo worker -Q <queue>`` in its own process group, on the test
    database; stopped (warm shutdown) afterwards unless the test killed it."""
    command = [PYTHON, "-m", "celery", "-A", "opvideo", "worker", "-Q", queue]
    command += ["--pool=solo", "-c", "1", "-n", f"{queue}-{uuid.uuid4().hex[:6]}@%h"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            command,
            cwd=REPO,
            # No FIELD_ENCRYPTION_KEYS: a storage server's worker never decrypts a secret.
            env={**os.environ, **subprocess_db_env(), "FIELD_ENCRYPTION_KEYS": "", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
