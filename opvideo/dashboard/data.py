"""What the dashboard shows, read in a dozen small queries whatever the size of VIDEO.

Only aggregates are read: ZoneDay (a row per zone and day), StorageSnapshot (each day's last
snapshot), the last PurgeRun per zone, recent IntegrityFinding counts, the workstations
grouped by zone and health, and per zone the newest ``VIDEO.integrity_checked_at``, which
MariaDB answers from the end of VIDEO_INTEGRITY_DUE_IDX (zone, integrity_checked_at)
without reading the table.

Each section is there only for a user who may view its rows in the admin; a user who may not
view zones sees no zone at all.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import Case, Count, Max, Sum, Value, When
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from client_agent.health import FAILING, OK, QUIET, STATES, with_health
from client_agent.models import Workstation
from storage.capacity.forecast import ZoneForecast, zone_forecasts
from storage.models import IntegrityFinding, PurgeRun, StorageSnapshot, Video, ZoneDay
from zones.models import Zone
from zones.selectors import zone_list

DAYS = 90  # the plots' history
FINDINGS_DAYS = 7  # "recent" integrity findings


# Named tuples rather than dataclasses: twenty zones make some 3,600 of them per page.
class DayIn(NamedTuple):
    day: date
    received: int
    received_bytes: int


class DayDisk(NamedTuple):
    day: date
    used: int
    free: int
    total: int


@dataclass
class ZoneBoard:
    zone: Zone
    forecast: ZoneForecast
    # The plots' history, read by ``history_read`` for the zones whose plots are not
    # cached already; ``history_version`` changes whenever that history does.
    history_version: tuple = ()
    days: list[DayIn] = field(default_factory=list)
    disk: list[DayDisk] = field(default_factory=list)
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


def dashboard_read(*, user, now: datetime | None = None, forecasts=None) -> Dashboard:
    """Everything the admin home shows ``user``, for the zones ``user`` may view.
    ``forecasts``: the enabled zones' (``zone_forecasts()``), when the request has read them
    already (the admin's warning on the same page); read here otherwise."""
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

    if forecasts is None:
        forecasts = zone_forecasts(zone_list(enabled=True).order_by("name"), today=today)
    zones = [forecast.zone for forecast in forecasts]
    if not zones:
        return board
    ids = [zone.pk for zone in zones]
    forecasts = {f.zone.pk: f for f in forecasts}
    versions = _day_versions(ids, first=first)
    for zone in zones:
        forecast = forecasts[zone.pk]
        taken = forecast.snapshot.taken_at if forecast.snapshot else None
        board.zones.append(
            ZoneBoard(
                zone=zone,
                forecast=forecast,
                history_version=(today, taken, *versions.get(zone.pk, ())),
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


def history_read(board: Dashboard, zones: list[ZoneBoard]) -> None:
    """Fill ``zones``' days received and disk points (the plots' history)."""
    if not zones:
        return
    ids = [z.zone.pk for z in zones]
    days = _days_in(ids, first=board.first_day, today=board.today)
    latest = {z.zone.pk: z.forecast.snapshot for z in zones if z.forecast.snapshot}
    disk = _disk_days(ids, first=board.first_day, today=board.today, latest=latest)
    for zone in zones:
        zone.days = days[zone.zone.pk]
        zone.disk = disk.get(zone.zone.pk, [])


def _day_versions(ids, *, first: date) -> dict[int, tuple]:
    """Per zone, what changes when the worker rewrites a day of the window: the newest
    ``updated_at`` and the number of rows (a few hundred rows, grouped in the database)."""
    rows = (
        ZoneDay.objects.filter(zone_id__in=ids, day__gte=first)
        .values("zone_id")
        .annotate(at=Max("updated_at"), n=Count("pk"))
        .order_by()
    )
    return {row["zone_id"]: (row["at"], row["n"]) for row in rows}


def _days_in(ids, *, first: date, today: date) -> dict[int, list[DayIn]]:
    """Each zone's received recordings and bytes for every day from ``first`` to
    ``today``; a day without a row received nothing."""
    rows = ZoneDay.objects.filter(zone_id__in=ids, day__gte=first, day__lte=today).values_list(
        "zone_id", "day", "received", "received_bytes"
    )
    known = {(zone, day): (n, size) for zone, day, n, size in rows.order_by()}
    span = [first + timedelta(days=n) for n in range((today - first).days + 1)]
    return {zone: [DayIn(d, *known.get((zone, d), (0, 0))) for d in span] for zone in ids}


def _disk_days(
    ids, *, first: date, today: date, latest: dict[int, StorageSnapshot]
) -> dict[int, list[DayDisk]]:
    """One point per zone and local day: the day's last snapshot (what the day ended
    with), and for today the latest one.

    Only the snapshots of each day's last interval are read: one range of the index
    (zone, taken_at) per zone and day, some 1,800 rows for twenty zones, instead of the
    forty thousand hourly ones in the window.
    """
    tz = timezone.get_current_timezone()
    interval = timedelta(minutes=settings.OPVIDEO_CAPACITY_INTERVAL_MINUTES)
    days = [first + timedelta(days=n) for n in range((today - first).days)]
    # In UTC, as the rows come: comparing datetimes of one tzinfo is cheap, of two is not.
    ends = [
        datetime.combine(d + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC) for d in days
    ]
    last: dict[tuple[int, date], tuple] = {}
    if days:
        rows = _snapshots_in(ids, [(end - interval, end) for end in ends])
        for zone, taken, used, free, total in rows:
            taken = _aware(taken)
            # The window a row is in names its day (no time-zone arithmetic per row).
            key = (zone, days[min(bisect_right(ends, taken), len(days) - 1)])
            if key not in last or last[key][0] < taken:
                last[key] = (taken, used, free, total)
    for zone, snap in latest.items():
        if timezone.localdate(snap.taken_at, tz) == today:
            last[zone, today] = (snap.taken_at, snap.used_bytes, snap.free_bytes, snap.total_bytes)
    out: dict[int, list[DayDisk]] = defaultdict(list)
    for (zone, day), (_, used, free, total) in sorted(last.items()):
        out[zone].append(DayDisk(day, used, free, total))
    return out


def _snapshots_in(ids, windows) -> list[tuple]:
    """(zone, taken_at, used, free, total) of ``ids``' snapshots within ``windows``, as
    one range of the index (zone, taken_at) per zone and window.

    Raw SQL: the ORM takes longer to compile ninety OR-ed ranges than MariaDB to run them.
    """
    if not ids or not windows:
        return []
    meta = StorageSnapshot._meta
    q = connection.ops.quote_name

    def col(name: str) -> str:
        return q(meta.get_field(name).column)

    taken = col("taken_at")
    ranges = " OR ".join([f"({taken} >= %s AND {taken} < %s)"] * len(windows))
    sql = (
        f"SELECT {col('zone')}, {taken}, {col('used_bytes')}, {col('free_bytes')}, "  # noqa: S608
        f"{col('total_bytes')} FROM {q(meta.db_table)} "
        f"WHERE {col('zone')} IN ({', '.join(['%s'] * len(ids))}) AND ({ranges})"
    )
    params = list(ids)
    for start, end in windows:
        params += [
            connection.ops.adapt_datetimefield_value(start),
            connection.ops.adapt_datetimefield_value(end),
        ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


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
    """The newest integrity check per zone: MAX over VIDEO_INTEGRITY_DUE_IDX (zone,
    integrity_checked_at), one index descent per zone.

    One SELECT per zone glued with UNION ALL: with an equality on the zone MariaDB reads
    the end of that zone's range of the index (a loose index scan), whereas one GROUP BY
    over ``ZONE_ID IN (...)`` walks every entry of the range, a read of all the zones'
    recordings.
    """
    # Raw SQL: the ORM's UNION of twenty querysets costs more to compile than to run.
    table = connection.ops.quote_name(Video._meta.db_table)
    zone_col = connection.ops.quote_name(Video._meta.get_field("zone").column)
    checked_col = connection.ops.quote_name(Video._meta.get_field("integrity_checked_at").column)
    one = f"SELECT %s, MAX({checked_col}) FROM {table} WHERE {zone_col} = %s"  # noqa: S608
    ids = list(by_id)
    if not ids:
        return
    sql = " UNION ALL ".join([one] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for zone in ids for value in (zone, zone)])
        rows = cursor.fetchall()
    for zone, last in rows:
        by_id[zone].checked_at = _aware(last)


def _aware(value) -> datetime | None:
    """A DATETIME read by raw SQL as the ORM would give it: aware, in UTC (SQLite gives
    text)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


__all__ = [
    "DAYS",
    "FAILING",
    "FINDINGS_DAYS",
    "OK",
    "QUIET",
    "Dashboard",
    "dashboard_read",
    "history_read",
]
