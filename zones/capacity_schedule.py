"""The zones' capacity-snapshot entries in django-celery-beat's database schedule.

One entry per enabled zone, named after it («Снимок хранилища: kursk») and found by its
task and the zone's id (zones.beat): every ``OPVIDEO_CAPACITY_INTERVAL_MINUTES``
beat sends the capacity snapshot (PATH_DST's disk and files, the roll-up of the zone's last
days, storage.capacity) to the zone's own queue, which only the worker on the zone's storage
server consumes: the disk is looked at where it is mounted. Kept in step with the zone by the
same services that keep its other entries (zones.services), and with
``manage.py sync_purge_schedules``. zones knows no other app, so the task is named by the
name storage.tasks registers it under.
"""

from __future__ import annotations

from django.utils.translation import gettext, pgettext_lazy

from .beat import ZoneEveryMinutes

CAPACITY_SCHEDULE = ZoneEveryMinutes(
    task="storage.capacity_zone",
    prefix="opvideo.capacity_zone.",
    label=pgettext_lazy("beat entry", "Storage snapshot"),
    minutes_setting="OPVIDEO_CAPACITY_INTERVAL_MINUTES",
    describe=lambda zone, minutes: (
        gettext(
            "Snapshot of the storage of zone %(zone)s (disk size, use, free room, its "
            "recordings) and its days' figures every %(minutes)s min, taken by the worker of "
            "its storage server (queue %(queue)s). Managed by the zone's page and "
            "OPVIDEO_CAPACITY_INTERVAL_MINUTES: edit those, not this entry."
        )
        % {"zone": zone.name, "minutes": minutes, "queue": zone.purge_queue}
    ),
)
CAPACITY_TASK_NAME = CAPACITY_SCHEDULE.task
