"""Celery tasks of the storage app: thin, the work is in ``storage.retention``."""

from __future__ import annotations

import logging

from celery import shared_task

from zones.models import Zone
from zones.purge_schedule import PURGE_TASK_NAME

from .models import PurgeRun
from .retention import PurgeError, purge_zones, videos_purge_expired

logger = logging.getLogger(__name__)


@shared_task(name=PURGE_TASK_NAME, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def purge_zone(zone_id: int) -> dict | None:
    """The daily purge of one zone, sent by beat to the queue ``zone.<ZONE>``.

    Takes the zone's id, not the zone: the message is a plain JSON number, and the zone is
    read as it is when the purge starts. A zone that is gone or disabled by then is skipped.
    Its secrets are never loaded: a storage server's worker needs no key to decrypt them.
    The purge is idempotent, so a message delivered again after a worker was killed simply
    finishes the work.
    """
    zone = purge_zones().filter(pk=zone_id).first()
    if zone is None or not zone.enabled:
        logger.info("purge of zone id %s skipped: the zone is gone or disabled", zone_id)
        return None
    try:
        summary = videos_purge_expired(zone=zone, trigger=PurgeRun.Trigger.SCHEDULE)
    except PurgeError as exc:
        # Already recorded (a failed PurgeRun) or harmless (another run holds the zone): a
        # traceback would add nothing.
        logger.error("purge of zone %s did not run: %s", zone.name, exc)
        return None
    return summary.as_dict()


def task_route(name, args, kwargs, options, task=None, **kw):
    """Route a purge to its zone's queue even when the sender named none (CELERY_TASK_ROUTES).

    Beat names the queue itself (the zone's schedule entry carries it); this catches
    ``purge_zone.delay(zone_id)`` from a shell or a script, which would otherwise wait in
    the default queue that no worker of this project consumes.
    """
    if name != PURGE_TASK_NAME:
        return None
    zone_id = args[0] if args else (kwargs or {}).get("zone_id")
    zone_name = Zone.objects.filter(pk=zone_id).values_list("name", flat=True).first()
    if zone_name is None:
        return None
    return {"queue": Zone(name=zone_name).purge_queue}
