"""What the zones' entries in django-celery-beat's database schedule have in common: one
entry per zone and kind, named for the admin after the kind and the zone («Очистка
хранилища: kursk»), written only when it changed, and a sync of all of them that also drops
the entries of zones gone. zones.purge_schedule, zones.fixity_schedule and
zones.media_schedule each say which task, when and where.

An entry is found by its task and its argument (the zone's id), not by its name: the name
follows the zone's, so renaming a zone renames its entries. Entries of the older naming
(a prefix and the zone's id, «opvideo.purge_zone.2») are found too, and renamed in place
(keeping beat's last run) or dropped.

The schedules are rows of their own (CrontabSchedule, IntervalSchedule), shared by every
entry with the same time, ours or not (the directory sync from CELERY_BEAT_SCHEDULE): one an
entry leaves is deleted once no entry at all refers to it, and never before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import translation
from django.utils.functional import Promise
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from .models import Zone
from .selectors import zone_list

# Every kind defined (each registers itself), for the upgrade from the older naming.
KINDS: list[ZoneEntries] = []


@dataclass(frozen=True)
class ZoneEntries:
    """One kind of zone entry: ``task`` sent with the zone's id to the zone's own queue,
    named ``label`` (lazy, translated into ``LANGUAGE_CODE`` whatever language the request
    that saves the zone speaks, so the name is the same from every page and command) and the
    zone's name. ``prefix``: the older naming (``prefix`` + the zone's id), found to be
    renamed or removed."""

    task: str
    prefix: str
    label: str | Promise

    def __post_init__(self) -> None:
        KINDS.append(self)

    def name(self, *, zone: Zone) -> str:
        with translation.override(settings.LANGUAGE_CODE):
            return f"{self.label}: {zone.name}"

    def legacy_name(self, *, zone_id: int) -> str:
        return f"{self.prefix}{zone_id}"

    def _of_zone(self, *, zone_id: int) -> QuerySet[PeriodicTask]:
        return PeriodicTask.objects.filter(
            Q(task=self.task, args=_args(zone_id)) | Q(name=self.legacy_name(zone_id=zone_id))
        ).order_by("pk")

    def entry(self, *, zone: Zone) -> PeriodicTask | None:
        """The zone's entry as beat sees it, or None (a disabled zone has none)."""
        return self._of_zone(zone_id=zone.pk).select_related("crontab", "interval").first()

    def put(
        self,
        *,
        zone: Zone,
        expire_seconds: int,
        description: str | Callable[[], str],
        crontab: CrontabSchedule | None = None,
        interval: IntervalSchedule | None = None,
    ) -> PeriodicTask:
        """The zone's entry sending the task (with the zone's id) to the zone's own queue on
        ``crontab`` or every ``interval``: only the worker on the zone's storage server
        consumes it. A message not taken within ``expire_seconds`` is dropped (the next one
        does the same work). ``description``, what the admin reads on the entry's page, is
        made in ``LANGUAGE_CODE`` like the name. Saved only if something differs; a second
        entry of the zone (the same task by hand, an older name beside a newer one) is
        dropped."""
        name = self.name(zone=zone)
        with translation.override(settings.LANGUAGE_CODE):
            description = description() if callable(description) else str(description)
        found = list(self._of_zone(zone_id=zone.pk).select_for_update())
        # Keep the one already named right, else the oldest (its last run carries over).
        found.sort(key=lambda task: task.name != name)
        task, extra = (found[0], found[1:]) if found else (PeriodicTask(), [])
        for other in extra:
            _task_delete(other)
        taken = PeriodicTask.objects.filter(name=name).exclude(pk=task.pk).first()
        if taken is not None:
            if taken.task == self.task:
                # Another zone's entry under this zone's name: the zones swapped names behind
                # the services' back. That zone's own sync writes it again under its name.
                _task_delete(taken)
            else:
                name = f"{name} ({zone.pk})"
        values = {
            "name": name,
            "task": self.task,
            "crontab": crontab,
            "interval": interval,
            "solar": None,
            "clocked": None,
            "args": _args(zone.pk),
            "kwargs": "{}",
            "queue": zone.purge_queue,
            "exchange": None,
            "routing_key": None,
            "expire_seconds": expire_seconds,
            "one_off": False,
            "enabled": True,
            "description": description,
        }
        if task.pk is not None and all(
            getattr(task, field) == value for field, value in values.items()
        ):
            return task
        before = _schedules(task) if task.pk is not None else ()
        for field, value in values.items():
            setattr(task, field, value)
        # Instance saves, not queryset updates: django-celery-beat tells a running beat to
        # reload its schedule from the model's save() and delete().
        task.save()
        _schedules_drop_unused(before)
        return task

    def remove(self, *, zone_id: int) -> None:
        for task in self._of_zone(zone_id=zone_id).select_for_update():
            _task_delete(task)

    def sync_all(self, sync: Callable[[Zone], PeriodicTask | None]) -> list[tuple[str, str]]:
        """Every zone's entry (``sync``) in line with the zone; entries of zones gone and of
        the older naming left over dropped. Returns (zone or entry name, what happened)
        pairs, for a command to print. Call inside a transaction."""
        done = []
        zones = list(zone_list().order_by("name"))
        for zone in zones:
            before = _state(self.entry(zone=zone))
            after = _state(sync(zone))
            if before == after:
                action = "unchanged" if after else "none (disabled)"
            elif after is None:
                action = "removed (disabled)"
            else:
                action = "created" if before is None else "updated"
            done.append((zone.name, action))
        kept = {self.name(zone=zone) for zone in zones if zone.enabled}
        ours = Q(task=self.task) | Q(name__startswith=self.prefix)
        for task in PeriodicTask.objects.filter(ours).exclude(name__in=kept):
            if task.task == self.task and task.args not in {_args(z.pk) for z in zones}:
                done.append((task.name, "removed (no such zone)"))
            elif task.name.startswith(self.prefix):
                done.append((task.name, "removed (older name)"))
            else:
                # An entry of an existing zone named otherwise: its name was taken by an entry
                # of another task (ZoneEntries.put), so it carries the zone's id too.
                continue
            _task_delete(task)
        _schedules_drop_unused(_unused_schedules())
        return done


@dataclass(frozen=True)
class ZoneEveryMinutes(ZoneEntries):
    """A kind of zone entry sent every few minutes (the integrity check, the media read):
    every ``minutes_setting`` minutes to each enabled zone's own queue;
    ``describe(zone, minutes)`` says in the admin what it is and where to change it."""

    minutes_setting: str
    describe: Callable[[Zone, int], str]

    def sync(self, *, zone: Zone) -> PeriodicTask | None:
        """Make the zone's entry match the zone and the setting: present while the zone is
        enabled, gone when it is not. Called in the transaction saving the zone."""
        if not zone.enabled:
            self.remove(zone_id=zone.pk)
            return None
        minutes = max(getattr(settings, self.minutes_setting), 1)
        return self.put(
            zone=zone,
            interval=_every(minutes=minutes),
            # A message older than the next one does the same work: never a backlog of
            # them after the worker was down.
            expire_seconds=minutes * 60,
            description=lambda: self.describe(zone, minutes),
        )

    def sync_all(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return super().sync_all(lambda zone: self.sync(zone=zone))


def legacy_entries_rename() -> list[tuple[str, str]]:
    """Give the entries of the older naming («opvideo.purge_zone.2») their zone's name, or
    drop them when their zone is gone or disabled; nothing else changes and nothing is
    created (creating entries starts purges: ``sync_purge_schedules`` does that, after the
    retention days were reviewed). Run after every ``migrate`` (zones.apps), so an upgrade
    needs no step of its own. Returns (old name, what happened) pairs."""
    done = []
    zones = {zone.pk: zone for zone in zone_list().filter(enabled=True)}
    for kind in KINDS:
        for task in PeriodicTask.objects.filter(name__startswith=kind.prefix).select_for_update():
            zone_id = task.name.removeprefix(kind.prefix)
            zone = zones.get(int(zone_id)) if zone_id.isdigit() else None
            if zone is None:
                _task_delete(task)
                done.append((task.name, "removed (no such zone)"))
                continue
            if PeriodicTask.objects.filter(name=kind.name(zone=zone)).exists():
                _task_delete(task)  # already there: the newer naming's entry wins
                done.append((task.name, "removed (older name)"))
                continue
            old = task.name
            task.name = kind.name(zone=zone)
            task.save()
            done.append((old, f"renamed to {task.name}"))
    return done


def daily_crontab(*, hour: int, minute: int) -> CrontabSchedule:
    """A shared "every day at hour:minute" schedule in the project's time zone."""
    fields = {
        "minute": str(minute),
        "hour": str(hour),
        "day_of_week": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        "timezone": settings.TIME_ZONE,
    }
    # Locked: a zone leaving this time in another transaction deletes the row only when no
    # entry refers to it, and must see this one (_schedules_drop_unused).
    crontab = CrontabSchedule.objects.select_for_update().filter(**fields).order_by("pk").first()
    return crontab or CrontabSchedule.objects.create(**fields)


def _every(*, minutes: int) -> IntervalSchedule:
    """A shared "every N minutes" schedule."""
    fields = {"every": minutes, "period": IntervalSchedule.MINUTES}
    interval = IntervalSchedule.objects.select_for_update().filter(**fields).order_by("pk").first()
    return interval or IntervalSchedule.objects.create(**fields)


def _args(zone_id: int) -> str:
    return json.dumps([zone_id])


def _schedules(task: PeriodicTask) -> list[CrontabSchedule | IntervalSchedule]:
    return [s for s in (task.crontab, task.interval) if s is not None]


def _task_delete(task: PeriodicTask) -> None:
    schedules = _schedules(task)
    task.delete()
    _schedules_drop_unused(schedules)


def _schedules_drop_unused(schedules) -> None:
    """Delete those of ``schedules`` no entry refers to any more. The row is locked and the
    entries looked up with a locking read, which sees what other transactions committed
    meanwhile: an entry another zone just pointed at it keeps it (deleting a schedule would
    delete its entries with it)."""
    for schedule in schedules:
        model = type(schedule)
        field = "crontab" if model is CrontabSchedule else "interval"
        if not model.objects.select_for_update().filter(pk=schedule.pk).exists():
            continue
        if not PeriodicTask.objects.select_for_update().filter(**{field: schedule.pk}).exists():
            model.objects.filter(pk=schedule.pk).delete()


def _unused_schedules() -> list[CrontabSchedule | IntervalSchedule]:
    """The schedules of the kinds the zones' entries use that no entry refers to: left
    behind by earlier versions, which never deleted one. A crontab or interval made for some
    other entry has that entry; one nobody uses schedules nothing."""
    crontabs = CrontabSchedule.objects.filter(
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
        periodictask__isnull=True,
    )
    intervals = IntervalSchedule.objects.filter(
        period=IntervalSchedule.MINUTES, periodictask__isnull=True
    )
    return [*crontabs, *intervals]


def _state(task: PeriodicTask | None) -> tuple | None:
    if task is None:
        return None
    return (task.name, task.queue, task.crontab_id, task.interval_id)
