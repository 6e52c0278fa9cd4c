"""The zones' integrity-check entries in django-celery-beat's database schedule.

One entry per enabled zone, named after it («Проверка целостности: kursk») and found by its
task and the zone's id (zones.beat): every ``OPVIDEO_FIXITY_INTERVAL_MINUTES``
beat sends the integrity check to the zone's own queue, which only the worker on the zone's
storage server consumes (the same queue as its purge: one process reads the files). Kept in
step with the zone by the same services that keep its purge entry (zones.services), and
with ``manage.py sync_purge_schedules``. zones knows no other app, so the task is named by
the name storage.tasks registers it under.
"""

from __future__ import annotations

from django.utils.translation import gettext, pgettext_lazy
from django_celery_beat.models import PeriodicTask

from .beat import ZoneEveryMinutes
from .models import Zone

FIXITY_SCHEDULE = ZoneEveryMinutes(
    task="storage.verify_integrity_zone",
    prefix="opvideo.verify_integrity_zone.",
    label=pgettext_lazy("beat entry", "Integrity check"),
    minutes_setting="OPVIDEO_FIXITY_INTERVAL_MINUTES",
    describe=lambda zone, minutes: (
        gettext(
            "Integrity check of the stored recordings of zone %(zone)s every %(minutes)s min, "
            "run by the worker of its storage server (queue %(queue)s). Managed by the zone's "
            "page and OPVIDEO_FIXITY_INTERVAL_MINUTES: edit those, not this entry."
        )
        % {"zone": zone.name, "minutes": minutes, "queue": zone.purge_queue}
    ),
)
FIXITY_TASK_NAME = FIXITY_SCHEDULE.task


def fixity_schedule_name(*, zone: Zone) -> str:
    return FIXITY_SCHEDULE.name(zone=zone)


def zone_fixity_schedule(*, zone: Zone) -> PeriodicTask | None:
    return FIXITY_SCHEDULE.entry(zone=zone)


def zone_fixity_schedule_sync(*, zone: Zone) -> PeriodicTask | None:
    return FIXITY_SCHEDULE.sync(zone=zone)


def zones_fixity_schedules_sync() -> list[tuple[str, str]]:
    return FIXITY_SCHEDULE.sync_all()


def fixity_schedule_remove(*, zone_id: int) -> None:
    FIXITY_SCHEDULE.remove(zone_id=zone_id)
