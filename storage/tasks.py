"""Celery tasks of the storage app: thin, the work is in ``storage.retention``,
``storage.integrity`` and ``storage.media``."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from zones.capacity_schedule import CAPACITY_TASK_NAME
from zones.fixity_schedule import FIXITY_TASK_NAME
from zones.media_schedule import MEDIA_TASK_NAME
from zones.models import Zone
from zones.purge_schedule import PURGE_TASK_NAME

from .capacity.snapshot import CapacityError, zone_capacity_record
from .integrity import IntegrityCheckError, videos_verify_integrity
from .media.read import MediaReadError, videos_media_read
from .models import PurgeRun
from .retention import PurgeError, purge_zones, videos_purge_expired

logger = logging.getLogger(__name__)


def _zone_work(
    *,
    zone_id: int,
    task: str,
    run: Callable,
    expected: type[Exception],
) -> dict | None:
    """What the zone tasks do around their service: the zone read as it is now (gone or
    disabled: skipped), another zone's work refused, and an ``expected`` error (the work
    could not start, and says why) logged in one line, a traceback would add nothing."""
    zone = purge_zones().filter(pk=zone_id).first()
    if zone is None or not zone.enabled:
        logger.info("%s of zone id %s skipped: the zone is gone or disabled", task, zone_id)
        return None
    refusal = _refused_for_another_zone(zone=zone, task=task)
    if refusal is not None:
        return refusal
    try:
        summary = run(zone)
    except expected as exc:
        logger.error("%s of zone %s did not run: %s", task, zone.name, exc)
        return None
    return summary.as_dict()


def _refused_for_another_zone(*, zone: Zone, task: str) -> dict | None:
    """A refusal when this worker serves another zone (OPVIDEO_WORKER_ZONE), else None.

    The queue should never bring another zone's task here, but a message sent by hand to
    the wrong queue, or a misconfigured route, must not make one site's worker delete or
    judge rows of another site: least privilege holds in the task, not only in the routing.
    """
    own = settings.OPVIDEO_WORKER_ZONE
    if not own or zone.name == own:
        return None
    logger.error("%s of zone %s refused: this worker serves zone %s only", task, zone.name, own)
    return {"refused": True, "zone": zone.name, "worker_zone": own}


@shared_task(name=PURGE_TASK_NAME, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def purge_zone(zone_id: int) -> dict | None:
    """The daily purge of one zone, sent by beat to the queue ``zone.<ZONE>``.

    Takes the zone's id, not the zone: the message is a plain JSON number, and the zone is
    read as it is when the purge starts. A zone that is gone or disabled by then is skipped.
    Its secrets are never loaded: a storage server's worker needs no key to decrypt them.
    The purge is idempotent, so a message delivered again after a worker was killed simply
    finishes the work.
    """
    # A PurgeError is already recorded (a failed PurgeRun) or harmless (another run holds
    # the zone).
    return _zone_work(
        zone_id=zone_id,
        task="purge",
        run=lambda zone: videos_purge_expired(zone=zone, trigger=PurgeRun.Trigger.SCHEDULE),
        expected=PurgeError,
    )


@shared_task(name=FIXITY_TASK_NAME, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def verify_integrity_zone(zone_id: int) -> dict | None:
    """One bounded run of the zone's integrity check, sent by beat to ``zone.<ZONE>``.

    Like the purge: the zone's id in the message, the zone read as it is now (gone or
    disabled: skipped), no secrets loaded. A run that cannot start (PATH_DST not mounted on
    this host, another check of the zone running) changes nothing and is only logged; the
    next run, a few minutes later, tries again.
    """
    return _zone_work(
        zone_id=zone_id,
        task="integrity check",
        run=lambda zone: videos_verify_integrity(zone=zone, now=timezone.now()),
        expected=IntegrityCheckError,
    )


@shared_task(name=MEDIA_TASK_NAME, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def media_read_zone(zone_id: int) -> dict | None:
    """One bounded run of the zone's media read (new recordings' metadata and previews),
    sent by beat to ``zone.<ZONE>`` every few minutes.

    Like the integrity check: the zone's id in the message, the zone read as it is now, no
    secrets loaded; a run that cannot start (ffmpeg missing, PATH_DST not mounted here,
    another read of the zone running) changes nothing and is only logged. Idempotent: a
    message delivered twice reads nothing twice.
    """
    return _zone_work(
        zone_id=zone_id,
        task="media read",
        run=lambda zone: videos_media_read(zone=zone, now=timezone.now()),
        expected=MediaReadError,
    )


@shared_task(
    name=CAPACITY_TASK_NAME, acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def capacity_zone(zone_id: int) -> dict | None:
    """The zone's capacity snapshot (PATH_DST's disk and recordings) and the roll-up of its
    days since the last one (snapshot.catch_up_days), sent by beat to ``zone.<ZONE>`` every
    OPVIDEO_CAPACITY_INTERVAL_MINUTES.

    Like the media read: the zone's id in the message, the zone read as it is now (gone or
    disabled: skipped), another zone's refused, no secrets loaded; PATH_DST missing here
    changes nothing and is only logged (the admin then warns that no snapshot arrived).
    Idempotent: the days are recomputed whole, a second snapshot is one more row.
    """
    return _zone_work(
        zone_id=zone_id,
        task="capacity snapshot",
        run=lambda zone: zone_capacity_record(zone=zone, now=timezone.now()),
        expected=CapacityError,
    )


ZONE_TASKS = (PURGE_TASK_NAME, FIXITY_TASK_NAME, MEDIA_TASK_NAME, CAPACITY_TASK_NAME)


def task_route(name, args, kwargs, options, task=None, **kw):
    """Route a zone's task (purge, integrity check, media read, capacity snapshot) to its
    zone's queue even when the sender named none (CELERY_TASK_ROUTES).

    Beat names the queue itself (the zone's schedule entry carries it); this catches
    ``purge_zone.delay(zone_id)`` (or ``verify_integrity_zone.delay``) from a shell or a
    script, which would otherwise wait in the default queue that no worker of this project
    consumes.
    """
    if name not in ZONE_TASKS:
        return None
    zone_id = args[0] if args else (kwargs or {}).get("zone_id")
    zone_name = Zone.objects.filter(pk=zone_id).values_list("name", flat=True).first()
    if zone_name is None:
        return None
    return {"queue": Zone(name=zone_name).purge_queue}
