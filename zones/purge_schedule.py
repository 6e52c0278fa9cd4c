"""The zones' daily purge entries in django-celery-beat's database schedule.

One entry per enabled zone, named after it («Очистка хранилища: kursk») and found by its
task and the zone's id, so a rename renames it (zones.beat): every day at the zone's purge
time, beat sends the retention task to the zone's own queue, which only the worker on the
zone's storage server consumes. zones knows no other app, so the task is named by the name
it is registered under (storage.tasks registers it under exactly this name).

Kept apart from zones.services because only the web, beat and the workers load
django-celery-beat; the workstation client imports zones without it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext, pgettext_lazy
from django_celery_beat.models import PeriodicTask

from .beat import ZoneEntries, daily_crontab
from .models import Zone

PURGE_ENTRIES = ZoneEntries(
    task="storage.purge_zone",
    prefix="opvideo.purge_zone.",
    label=pgettext_lazy("beat entry", "Storage purge"),
)
PURGE_TASK_NAME = PURGE_ENTRIES.task
# A purge message nobody took within a day is dropped: the next day's one does the same work,
# and a worker that was down for a week should not start with seven purges in a row.
PURGE_MESSAGE_EXPIRES = 23 * 3600


def purge_schedule_name(*, zone: Zone) -> str:
    return PURGE_ENTRIES.name(zone=zone)


def zone_purge_schedule(*, zone: Zone) -> PeriodicTask | None:
    """The zone's daily purge entry as beat sees it, or None (a disabled zone has none)."""
    return PURGE_ENTRIES.entry(zone=zone)


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
    return PURGE_ENTRIES.put(
        zone=zone,
        crontab=daily_crontab(hour=zone.purge_time.hour, minute=zone.purge_time.minute),
        expire_seconds=PURGE_MESSAGE_EXPIRES,
        description=lambda: (
            gettext(
                "Daily purge of the expired recordings of zone %(zone)s, run by the worker of its "
                "storage server (queue %(queue)s). Managed by the zone's page: edit the zone, not "
                "this entry."
            )
            % {"zone": zone.name, "queue": zone.purge_queue}
        ),
    )


def zones_purge_schedules_sync() -> list[tuple[str, str]]:
    """Bring every zone's purge entry in line with the zone, and drop entries of zones that no
    longer exist (a zone deleted with SQL) and of the older naming. For a database adopted
    from the old system or restored from a backup, whose zones were never saved through these
    services, and after an upgrade.

    Returns (zone or entry name, what happened) pairs, for the command to print.
    """
    with transaction.atomic():
        return PURGE_ENTRIES.sync_all(lambda zone: zone_purge_schedule_sync(zone=zone))


def purge_schedule_remove(*, zone_id: int) -> None:
    PURGE_ENTRIES.remove(zone_id=zone_id)
