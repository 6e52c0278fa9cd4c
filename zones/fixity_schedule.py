"""The zones' integrity-check entries in django-celery-beat's database schedule.

One entry per enabled zone, found by the zone's id: every ``OPVIDEO_FIXITY_INTERVAL_MINUTES``
beat sends the integrity check to the zone's own queue, which only the worker on the zone's
storage server consumes (the same queue as its purge: one process reads the files). Kept in
step with the zone by the same services that keep its purge entry (zones.services), and
with ``manage.py sync_purge_schedules``. zones knows no other app, so the task is named by
the name storage.tasks registers it under.
"""

from __future__ import annotations

from django.conf import settings
from django_celery_beat.models import PeriodicTask

from .beat import (
    periodic_task_remove,
    zone_every_minutes_sync,
    zone_periodic_task,
    zones_periodic_tasks_sync,
)
from .models import Zone

FIXITY_TASK_NAME = "storage.verify_integrity_zone"
FIXITY_SCHEDULE_PREFIX = "opvideo.verify_integrity_zone."


def fixity_schedule_name(*, zone_id: int) -> str:
    return f"{FIXITY_SCHEDULE_PREFIX}{zone_id}"


def zone_fixity_schedule(*, zone: Zone) -> PeriodicTask | None:
    """The zone's integrity-check entry as beat sees it, or None (a disabled zone has none)."""
    return zone_periodic_task(name=fixity_schedule_name(zone_id=zone.pk))


def zone_fixity_schedule_sync(*, zone: Zone) -> PeriodicTask | None:
    """Make the zone's integrity-check entry match the zone and the settings: present while
    the zone is enabled, gone when it is not. Called in the transaction saving the zone."""
    return zone_every_minutes_sync(
        name=fixity_schedule_name(zone_id=zone.pk),
        task=FIXITY_TASK_NAME,
        zone=zone,
        minutes=settings.OPVIDEO_FIXITY_INTERVAL_MINUTES,
        describe=lambda minutes: (
            f"Integrity check of the stored recordings of zone {zone.name} every {minutes} "
            f"minutes, run by the worker of its storage server (queue {zone.purge_queue}). "
            "Managed by the zone's page and OPVIDEO_FIXITY_INTERVAL_MINUTES: edit those, "
            "not this entry."
        ),
    )


def zones_fixity_schedules_sync() -> list[tuple[str, str]]:
    """Every zone's entry in line with the zone; entries of zones gone dropped. Returns (zone
    or entry name, what happened) pairs. Call inside a transaction."""
    return zones_periodic_tasks_sync(
        prefix=FIXITY_SCHEDULE_PREFIX,
        name_of=lambda zone_id: fixity_schedule_name(zone_id=zone_id),
        sync=lambda zone: zone_fixity_schedule_sync(zone=zone),
    )


def fixity_schedule_remove(*, zone_id: int) -> None:
    periodic_task_remove(name=fixity_schedule_name(zone_id=zone_id))
