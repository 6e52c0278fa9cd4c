"""What the dashboard shows, read in a dozen small queries whatever the size of VIDEO.

Only aggregates are read: ZoneDay (a row per zone and day), StorageSnapshot (grouped to one
point per zone and day), the last PurgeRun per zone, recent IntegrityFinding counts, the
workstations grouped by zone and health, and per zone the newest
``VIDEO.integrity_checked_at``, which MariaDB answers from the end of VIDEO_INTEGRITY_DUE_IDX
(zone, integrity_checked_at) without reading the table.

Each section is there only for a user who may view its rows in the admin; a user who may not
view zones sees no zone at all.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import (
    Case,
    Count,
    DateField,
    DateTimeField,
    ExpressionWrapper,
    F,
    Func,
    Max,
    Min,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from client_agent.health import FAILING, OK, QUIET, STATES, with_health
from client_agent.models import Workstation
from storage.capacity.forecast import ZoneForecast, zone_forecasts
from storage.models import IntegrityFinding, PurgeRun, StorageSnapshot, Video, ZoneDay
from zones.models import Zone

DAYS = 90  # the plots' history
FINDINGS_DAYS = 7  # "recent" integrity findings


@dataclass(frozen=True)
class DayIn:
    day: date
    received: int
    received_bytes: int


@dataclass(frozen=True)
class DayDisk:
    day: date
    used: int
    free: int
    total: int


@dataclass
class ZoneBoard:
    zone: Zone
    days: list[DayIn]
    disk: list[DayDisk]
    forecast: ZoneForecast
    health: dict[str, int] | None = None  # {ok, quiet, failing}; None: may not view
    waiting: int = 0  # recordings on workstations, not delivered yet
    waiting_hosts: int = 0  # workstations that have any
    purge: PurgeRun | None = None
    checked_at: datetime | None = None  # newest integrity check of any recording
    findings: int | None = None  # integrity findings in the last FINDINGS_DAYS days

    @property
    def received_total(self) -> int:
        return sum(d.received for d in self.days)

    @property
    def received_bytes_total(self) -> int:
        return sum(d.received_bytes for d in self.days)

    @property
    def workstations(self) -> int:
        return sum(self.health.values()) if self.health else 0


@dataclass
class Dashboard:
    today: date
    first_day: date
    zones: list[ZoneBoard] = field(default_factory=list)
    workstations: bool = False  # the user may view workstations
    purges: bool = False
    integrity: bool = False
    recordings: bool = False


def _may_view(user, app_label: str, model: str) -> bool:
    return user.has_perm(f"{app_label}.view_{model}") or user.has_perm(
        f"{app_label}.change_{model}"
    )


def dashboard_read(*, user, now: datetime | None = None) -> Dashboard:
    """Everything the admin home shows ``user``, for the zones ``user`` may view."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    first = today - timedelta(days=DAYS - 1)
    board = Dashboard(today=today, first_day=first)
    if not (user.is_active and user.is_staff and _may_view(user, "zones", "zone")):
        return board
    board.workstations = _may_view(user, "client_agent", "workstation")
    board.purges = _may_view(user, "storage", "purgerun")
    board.integrity = _may_view(user, "storage", "integrityfinding")
    board.recordings = _may_view(user, "storage", "video")

    zones = list(
        Zone.objects.filter(enabled=True).only("id", "name", "retention_days").order_by("name")
    )
    if not zones:
        return board
    ids = [zone.pk for zone in zones]
    forecasts = {f.zone.pk: f for f in zone_forecasts(zones, today=today)}
    days = _days_in(ids, first=first, today=today)
    disk = _disk_days(ids, first=first, now=now)
    for zone in zones:
        board.zones.append(
            ZoneBoard(
                zone=zone,
                days=days[zone.pk],
                disk=disk.get(zone.pk, []),
                forecast=forecasts[zone.pk],
            )
        )
    by_id = {z.zone.pk: z for z in board.zones}
    if board.workstations:
        _workstations_attach(by_id, now=now)
    if board.purges:
        _purges_attach(by_id)
    if board.integrity:
        _findings_attach(by_id, since=now - timedelta(days=FINDINGS_DAYS))
    if board.recordings:
        _checked_attach(by_id)
    return board


def _days_in(ids, *, first: date, today: date) -> dict[int, list[DayIn]]:
    """Each zone's received recordings and bytes for every day from ``first`` to
    ``today``; a day without a row received nothing."""
    rows = ZoneDay.objects.filter(zone_id__in=ids, day__gte=first, day__lte=today).values_list(
        "zone_id", "day", "received", "received_bytes"
    )
    known = {(zone, day): (n, size) for zone, day, n, size in rows.order_by()}
    span = [first + timedelta(days=n) for n in range((today - first).days + 1)]
    return {zone: [DayIn(d, *known.get((zone, d), (0, 0))) for d in span] for zone in ids}


def _disk_days(ids, *, first: date, now: datetime) -> dict[int, list[DayDisk]]:
    """One point per zone and local day (the day's fullest: most used, least free) from
    the hourly snapshots, grouped by the database: a few thousand rows stay there.

    The local day is the UTC time shifted by TIME_ZONE's offset now, computed in SQL
    without MariaDB's time-zone tables (which a server need not have); a DST change in
    the window moves a point by an hour at most.
    """
    offset = timezone.localtime(now).utcoffset() or timedelta(0)
    local_day = Func(
        ExpressionWrapper(F("taken_at") + Value(offset), output_field=DateTimeField()),
        function="DATE",
        output_field=DateField(),
    )
    since = datetime.combine(first, datetime.min.time(), tzinfo=timezone.get_current_timezone())
    rows = (
        StorageSnapshot.objects.filter(zone_id__in=ids, taken_at__gte=since)
        .annotate(local_day=local_day)
        .values("zone_id", "local_day")
        .annotate(used=Max("used_bytes"), free=Min("free_bytes"), total=Max("total_bytes"))
        .order_by("zone_id", "local_day")
    )
    out: dict[int, list[DayDisk]] = defaultdict(list)
    for row in rows:
        day = row["local_day"]
        if isinstance(day, str):  # SQLite returns DATE() as text
            day = date.fromisoformat(day)
        out[row["zone_id"]].append(DayDisk(day, row["used"], row["free"], row["total"]))
    return out


def _workstations_attach(by_id: dict[int, ZoneBoard], *, now: datetime) -> None:
    """Health counts and waiting recordings per zone: one GROUP BY, the same rule
    (client_agent.health) as the workstation list's filter the counts link to."""
    rows = (
        with_health(Workstation.objects.filter(zone_id__in=list(by_id)), now=now)
        .values("zone_id", "health")
        .annotate(
            n=Count("pk"),
            waiting=Sum("pending_count"),
            waiting_hosts=Count(Case(When(pending_count__gt=0, then=Value(1)))),
        )
        .order_by()
    )
    for zone in by_id.values():
        zone.health = dict.fromkeys(STATES, 0)
    for row in rows:
        zone = by_id[row["zone_id"]]
        zone.health[row["health"]] = row["n"]
        zone.waiting += row["waiting"] or 0
        zone.waiting_hosts += row["waiting_hosts"]


def _purges_attach(by_id: dict[int, ZoneBoard]) -> None:
    """Each zone's latest purge run (the highest id: runs are created in order)."""
    last = (
        PurgeRun.objects.filter(zone_id__in=list(by_id))
        .values("zone_id")
        .annotate(last=Max("id"))
        .order_by()
    )
    ids = [row["last"] for row in last]
    for run in PurgeRun.objects.filter(id__in=ids):
        by_id[run.zone_id].purge = run


def _findings_attach(by_id: dict[int, ZoneBoard], *, since: datetime) -> None:
    for zone in by_id.values():
        zone.findings = 0
    rows = (
        IntegrityFinding.objects.filter(zone_id__in=list(by_id), found_at__gte=since)
        .values("zone_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        by_id[row["zone_id"]].findings = row["n"]


def _checked_attach(by_id: dict[int, ZoneBoard]) -> None:
    """The newest integrity check per zone: MAX over VIDEO_INTEGRITY_DUE_IDX, one index
    descent per zone (a loose index scan), never a read of the rows."""
    rows = (
        Video.objects.filter(zone_id__in=list(by_id))
        .values("zone_id")
        .annotate(last=Max("integrity_checked_at"))
        .order_by()
    )
    for row in rows:
        by_id[row["zone_id"]].checked_at = row["last"]


__all__ = ["DAYS", "FAILING", "FINDINGS_DAYS", "OK", "QUIET", "Dashboard", "dashboard_read"]
