"""The zones' capacity-snapshot entries in django-celery-beat's database schedule.

One entry per enabled zone, found by the zone's id: every ``OPVIDEO_CAPACITY_INTERVAL_MINUTES``
beat sends the capacity snapshot (PATH_DST's disk and files, the roll-up of the zone's last
days, storage.capacity) to the zone's own queue, which only the worker on the zone's storage
server consumes: the disk is looked at where it is mounted. Kept in step with the zone by the
same services that keep its other entries (zones.services), and with
``manage.py sync_purge_schedules``. zones knows no other app, so the task is named by the
name storage.tasks registers it under.
"""

from __future__ import annotations

from .beat import ZoneEveryMinutes

CAPACITY_SCHEDULE = ZoneEveryMinutes(
    task="storage.capacity_zone",
    prefix="opvideo.capacity_zone.",
    minutes_setting="OPVIDEO_CAPACITY_INTERVAL_MINUTES",
    describe=lambda zone, minutes: (
        f"Snapshot of the storage of zone {zone.name} (disk size, use, free room, its "
        f"recordings) and its days' figures every {minutes} minutes, taken by the worker of "
        f"its storage server (queue {zone.purge_queue}). Managed by the zone's page and "
        "OPVIDEO_CAPACITY_INTERVAL_MINUTES: edit those, not this entry."
    ),
)
CAPACITY_TASK_NAME = CAPACITY_SCHEDULE.task
