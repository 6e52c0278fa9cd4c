"""The zones' daily purge entries in django-celery-beat's database schedule.

One entry per enabled zone, found by the zone's id (which survives a rename): every day at
the zone's purge time, beat sends the retention task to the zone's own queue, which only the
worker on the zone's storage server consumes. zones knows no other app, so the task is named
by the name it is registered under (storage.tasks registers it under exactly this name).

Kept apart from zones.services because only the web, beat and the workers load
django-celery-beat; the workstation client imports zones without it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from .beat import (
    periodic_task_remove,
    zone_entry_put,
    zone_periodic_task,
    zones_periodic_tasks_sync,
)
from .models import Zone

PURGE_TASK_NAME = "storage.purge_zone"
PURGE_SCHEDULE_PREFIX = "opvideo.purge_zone."
# A purge message nobody took within a day is dropped: the next day's one does the same work,
# and a worker that was down for a week should not start with seven purges in a row.
PURGE_MESSAGE_EXPIRES = 23 * 3600


def purge_schedule_name(*, zone_id: int) -> str:
    return f"{PURGE_SCHEDULE_PREFIX}{zone_id}"


def zone_purge_schedule(*, zone: Zone) -> PeriodicTask | None:
    """The zone's daily purge entry as beat sees it, or None (a disabled zone has none)."""
    return zone_periodic_task(name=purge_schedule_name(zone_id=zone.pk))


def zone_purge_schedule_sync(*, zone: Zone) -> PeriodicTask | None:
    """Make the zone's daily purge entry match the zone: present while it is enabled, gone
    when it is not. Returns the entry, or None.

    Called inside the transaction that saves the zone, so the zone and its schedule never
    disagree. Beat (django-celery-beat's DatabaseScheduler) reads these rows; each names the
    zone's own queue, so only the worker on the zone's storage server, which mounts PATH_DST,
    takes the purge.
    """
    if not zone.enabled:
        purge_schedule_remove(zone_id=zone.pk)
        return None
    return zone_entry_put(
        name=purge_schedule_name(zone_id=zone.pk),
        task=PURGE_TASK_NAME,
        zone=zone,
        crontab=_daily_crontab(hour=zone.purge_time.hour, minute=zone.purge_time.minute),
        expire_seconds=PURGE_MESSAGE_EXPIRES,
        description=(
            f"Daily purge of the expired recordings of zone {zone.name}, run by the worker "
            f"of its storage server (queue {zone.purge_queue}). Managed by the zone's page: "
            "edit the zone, not this entry."
        ),
    )


def zones_purge_schedules_sync() -> list[tuple[str, str]]:
    """Bring every zone's purge entry in line with the zone, and drop entries of zones that no
    longer exist (a zone deleted with SQL). For a database adopted from the old system or
    restored from a backup, whose zones were never saved through these services.

    Returns (zone or entry name, what happened) pairs, for the command to print.
    """
    with transaction.atomic():
        return zones_periodic_tasks_sync(
            prefix=PURGE_SCHEDULE_PREFIX,
            name_of=lambda zone_id: purge_schedule_name(zone_id=zone_id),
            sync=lambda zone: zone_purge_schedule_sync(zone=zone),
        )


def _daily_crontab(*, hour: int, minute: int) -> CrontabSchedule:
    """A shared "every day at hour:minute" schedule in the project's time zone."""
    fields = {
        "minute": str(minute),
        "hour": str(hour),
        "day_of_week": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        "timezone": settings.TIME_ZONE,
    }
    crontab = CrontabSchedule.objects.filter(**fields).order_by("pk").first()
    return crontab or CrontabSchedule.objects.create(**fields)


def purge_schedule_remove(*, zone_id: int) -> None:
    periodic_task_remove(name=purge_schedule_name(zone_id=zone_id))
