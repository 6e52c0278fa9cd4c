"""What the zones' entries in django-celery-beat's database schedule have in common: one
entry per zone, named by a prefix and the zone's id, written only when it changed, and a
sync of all of them that also drops the entries of zones gone (zones.purge_schedule,
zones.fixity_schedule and zones.media_schedule each say which task, when and where).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from .models import Zone
from .selectors import zone_list


def periodic_task_put(*, name: str, values: dict) -> PeriodicTask:
    """The entry ``name`` with ``values``, saved only if something differs.

    Instance saves, not queryset updates: django-celery-beat tells a running beat to reload
    its schedule from the model's save() and delete().
    """
    task = PeriodicTask.objects.select_for_update().filter(name=name).first()
    if task is None:
        task = PeriodicTask(name=name)
    elif all(getattr(task, field) == value for field, value in values.items()):
        return task
    for field, value in values.items():
        setattr(task, field, value)
    task.save()
    return task


def zone_entry_put(
    *,
    name: str,
    task: str,
    zone: Zone,
    expire_seconds: int,
    description: str,
    crontab: CrontabSchedule | None = None,
    interval: IntervalSchedule | None = None,
) -> PeriodicTask:
    """The entry ``name`` sending ``task`` (with the zone's id) to the zone's own queue on
    ``crontab`` or every ``interval``: only the worker on the zone's storage server consumes
    it. A message not taken within ``expire_seconds`` is dropped (the next one does the same
    work)."""
    values = {
        "task": task,
        "crontab": crontab,
        "interval": interval,
        "solar": None,
        "clocked": None,
        "args": json.dumps([zone.pk]),
        "kwargs": "{}",
        "queue": zone.purge_queue,
        "exchange": None,
        "routing_key": None,
        "expire_seconds": expire_seconds,
        "one_off": False,
        "enabled": True,
        "description": description,
    }
    return periodic_task_put(name=name, values=values)


@dataclass(frozen=True)
class ZoneEveryMinutes:
    """One kind of zone entry sent every few minutes (the integrity check, the media read):
    ``task`` every ``minutes_setting`` minutes to each enabled zone's own queue, in entries
    named ``prefix`` + the zone's id; ``describe(zone, minutes)`` says in the admin what it
    is and where to change it."""

    task: str
    prefix: str
    minutes_setting: str
    describe: Callable[[Zone, int], str]

    def name(self, *, zone_id: int) -> str:
        return f"{self.prefix}{zone_id}"

    def entry(self, *, zone: Zone) -> PeriodicTask | None:
        """The zone's entry as beat sees it, or None (a disabled zone has none)."""
        return zone_periodic_task(name=self.name(zone_id=zone.pk))

    def sync(self, *, zone: Zone) -> PeriodicTask | None:
        """Make the zone's entry match the zone and the setting: present while the zone is
        enabled, gone when it is not. Called in the transaction saving the zone."""
        if not zone.enabled:
            self.remove(zone_id=zone.pk)
            return None
        minutes = max(getattr(settings, self.minutes_setting), 1)
        return zone_entry_put(
            name=self.name(zone_id=zone.pk),
            task=self.task,
            zone=zone,
            interval=_every(minutes=minutes),
            # A message older than the next one does the same work: never a backlog of
            # them after the worker was down.
            expire_seconds=minutes * 60,
            description=self.describe(zone, minutes),
        )

    def sync_all(self) -> list[tuple[str, str]]:
        """Every zone's entry in line with the zone; entries of zones gone dropped. Returns
        (zone or entry name, what happened) pairs. Call inside a transaction."""
        return zones_periodic_tasks_sync(
            prefix=self.prefix,
            name_of=lambda zone_id: self.name(zone_id=zone_id),
            sync=lambda zone: self.sync(zone=zone),
        )

    def remove(self, *, zone_id: int) -> None:
        periodic_task_remove(name=self.name(zone_id=zone_id))


def zone_periodic_task(*, name: str) -> PeriodicTask | None:
    """A zone's entry as beat sees it, or None (a disabled zone has none)."""
    return PeriodicTask.objects.select_related("crontab", "interval").filter(name=name).first()


def _every(*, minutes: int) -> IntervalSchedule:
    """A shared "every N minutes" schedule."""
    fields = {"every": minutes, "period": IntervalSchedule.MINUTES}
    interval = IntervalSchedule.objects.filter(**fields).order_by("pk").first()
    return interval or IntervalSchedule.objects.create(**fields)


def periodic_task_remove(*, name: str) -> None:
    for task in PeriodicTask.objects.filter(name=name):
        task.delete()


def zones_periodic_tasks_sync(
    *,
    prefix: str,
    name_of: Callable[[int], str],
    sync: Callable[[Zone], PeriodicTask | None],
) -> list[tuple[str, str]]:
    """Every zone's entry (``sync``) in line with the zone, and the entries under ``prefix``
    of zones that no longer exist dropped. Returns (zone or entry name, what happened)
    pairs, for a command to print. Call inside a transaction."""
    done = []
    zones = list(zone_list().order_by("name"))
    for zone in zones:
        before = _state(name=name_of(zone.pk))
        after = sync(zone)
        after_state = None if after is None else _task_state(after)
        if before == after_state:
            action = "unchanged" if after else "none (disabled)"
        elif after is None:
            action = "removed (disabled)"
        else:
            action = "created" if before is None else "updated"
        done.append((zone.name, action))
    known = {name_of(zone.pk) for zone in zones}
    for task in PeriodicTask.objects.filter(name__startswith=prefix):
        if task.name not in known:
            task.delete()
            done.append((task.name, "removed (no such zone)"))
    return done


_STATE_FIELDS = ("queue", "crontab_id", "interval_id")


def _task_state(task: PeriodicTask) -> tuple:
    return tuple(getattr(task, field) for field in _STATE_FIELDS)


def _state(*, name: str) -> tuple | None:
    found = PeriodicTask.objects.filter(name=name).values_list(*_STATE_FIELDS).first()
    return tuple(found) if found else None
