"""The zones' media-read entries in django-celery-beat's database schedule.

One entry per enabled zone, found by the zone's id: every ``OPVIDEO_MEDIA_INTERVAL_MINUTES``
beat sends the media read (new recordings' metadata and previews, storage.media) to the
zone's own queue, which only the worker on the zone's storage server consumes: it reads the
files there. Kept in step with the zone by the same services that keep its purge and
integrity-check entries (zones.services), and with ``manage.py sync_purge_schedules``. zones
knows no other app, so the task is named by the name storage.tasks registers it under.
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

MEDIA_TASK_NAME = "storage.media_read_zone"
MEDIA_SCHEDULE_PREFIX = "opvideo.media_read_zone."


def media_schedule_name(*, zone_id: int) -> str:
    return f"{MEDIA_SCHEDULE_PREFIX}{zone_id}"


def zone_media_schedule(*, zone: Zone) -> PeriodicTask | None:
    """The zone's media-read entry as beat sees it, or None (a disabled zone has none)."""
    return zone_periodic_task(name=media_schedule_name(zone_id=zone.pk))


def zone_media_schedule_sync(*, zone: Zone) -> PeriodicTask | None:
    """Make the zone's media-read entry match the zone and the settings: present while the
    zone is enabled, gone when it is not. Called in the transaction saving the zone."""
    return zone_every_minutes_sync(
        name=media_schedule_name(zone_id=zone.pk),
        task=MEDIA_TASK_NAME,
        zone=zone,
        minutes=settings.OPVIDEO_MEDIA_INTERVAL_MINUTES,
        describe=lambda minutes: (
            f"Metadata and previews of the new recordings of zone {zone.name} every "
            f"{minutes} minutes, made by the worker of its storage server (queue "
            f"{zone.purge_queue}). Managed by the zone's page and "
            "OPVIDEO_MEDIA_INTERVAL_MINUTES: edit those, not this entry."
        ),
    )


def zones_media_schedules_sync() -> list[tuple[str, str]]:
    """Every zone's entry in line with the zone; entries of zones gone dropped. Returns (zone
    or entry name, what happened) pairs. Call inside a transaction."""
    return zones_periodic_tasks_sync(
        prefix=MEDIA_SCHEDULE_PREFIX,
        name_of=lambda zone_id: media_schedule_name(zone_id=zone_id),
        sync=lambda zone: zone_media_schedule_sync(zone=zone),
    )


def media_schedule_remove(*, zone_id: int) -> None:
    periodic_task_remove(name=media_schedule_name(zone_id=zone_id))
