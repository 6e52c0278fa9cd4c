"""What the zones' entries in django-celery-beat's database schedule have in common: one
entry per zone, named by a prefix and the zone's id, written only when it changed, and a
sync of all of them that also drops the entries of zones gone (zones.purge_schedule,
zones.fixity_schedule and zones.media_schedule each say which task, when and where).
"""

from __future__ import annotations

import json
from collections.abc import Callable

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


def zone_every_minutes_sync(
    *, name: str, task: str, zone: Zone, minutes: int, describe: Callable[[int], str]
) -> PeriodicTask | None:
    """The zone's entry ``name`` sending ``task`` every ``minutes`` while the zone is
    enabled, gone when it is not; ``describe(minutes)`` says what it is in the admin. Called
    in the transaction saving the zone."""
    if not zone.enabled:
        periodic_task_remove(name=name)
        return None
    minutes = max(minutes, 1)
    return zone_entry_put(
        name=name,
        task=task,
        zone=zone,
        interval=_every(minutes=minutes),
        # A message older than the next one does the same work: never a backlog of them
        # after the worker was down.
        expire_seconds=minutes * 60,
        description=describe(minutes),
    )


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
