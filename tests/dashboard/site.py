"""A small site for the dashboard's tests: two working zones and a disabled one, with the
days, snapshots, workstations, purges, findings and checked recordings the page reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from client_agent.models import Workstation
from storage.models import IntegrityFinding, PurgeRun, StorageSnapshot, ZoneDay
from tests.factories import make_video, make_zone
from zones.models import Zone

MIB = 1024**2
TIB = 1024**4
# Noon in Moscow: the local day and the UTC day agree, whatever the test runs at.
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@dataclass
class Site:
    now: datetime
    kursk: Zone
    orel: Zone
    off: Zone


def received_on(n: int) -> int:
    """Kursk's recordings on the n-th day back from today (0: today)."""
    return 100 + n


def site_build(*, now: datetime) -> Site:
    today = timezone.localdate(now)
    kursk = make_zone(name="kursk", retention_days=90)
    orel = make_zone(name="orel", retention_days=30)
    off = make_zone(name="off", enabled=False)
    ZoneDay.objects.bulk_create(
        [
            ZoneDay(
                zone=kursk,
                day=today - timedelta(days=n),
                received=received_on(n),
                received_bytes=received_on(n) * 10 * MIB,
                purged=50,
                purged_bytes=50 * 10 * MIB,
                updated_at=now,
            )
            for n in range(120)  # older days than the plot's 90 are left out
        ]
        + [
            ZoneDay(zone=orel, day=today - timedelta(days=n), received=7, updated_at=now)
            for n in (1, 2, 3)
        ]
        + [ZoneDay(zone=off, day=today, received=999, updated_at=now)]
    )
    # Snapshots at 01:30, 12:30 and 23:30 local time on the last three days: 01:30 in
    # Moscow is the evening before in UTC, so a grouping by UTC day would misplace it.
    tz = timezone.get_current_timezone()
    snapshots = []
    for back in (2, 1, 0):
        day = today - timedelta(days=back)
        for hour in (1, 12, 23):
            taken = datetime(day.year, day.month, day.day, hour, 30, tzinfo=tz)
            if taken > now:
                continue
            used = 4 * TIB + (2 - back) * 100 * MIB * 1024 + hour * MIB
            snapshots.append(
                StorageSnapshot(
                    zone=kursk,
                    taken_at=taken,
                    total_bytes=6 * TIB,
                    used_bytes=used,
                    free_bytes=6 * TIB - used,
                    file_count=1000,
                    file_bytes=used - 100 * MIB * 1024,
                )
            )
    StorageSnapshot.objects.bulk_create(snapshots)

    recent, long_ago = now - timedelta(minutes=20), now - timedelta(hours=5)
    rows = [
        ("k-ok-1", kursk, dict(last_seen=recent, last_success=recent, pending_count=5)),
        ("k-ok-2", kursk, dict(last_seen=recent, last_success=recent)),
        ("k-quiet", kursk, dict(last_seen=long_ago, last_success=long_ago, pending_count=7)),
        ("k-failing", kursk, dict(last_seen=recent, last_success=None)),
        ("o-ok", orel, dict(last_seen=recent, last_success=recent)),
        ("off-quiet", off, dict(last_seen=long_ago, last_success=long_ago, pending_count=100)),
    ]
    for host, zone, values in rows:
        Workstation.objects.create(host=host, zone=zone, zone_name=zone.name, **values)

    for hours, deleted in ((50, 3), (26, 10)):
        PurgeRun.objects.create(
            zone=kursk,
            zone_name="kursk",
            trigger=PurgeRun.Trigger.SCHEDULE,
            status=PurgeRun.Status.FINISHED,
            today=today,
            started_at=now - timedelta(hours=hours),
            finished_at=now - timedelta(hours=hours - 1),
            deleted=deleted,
            failed=1 if deleted == 10 else 0,
            bytes_freed=deleted * 10 * MIB,
        )

    checked = []
    for hours in (30, 2, None):
        checked.append(
            make_video(
                zone=kursk,
                integrity_checked_at=None if hours is None else now - timedelta(hours=hours),
            )
        )
    make_video(zone=orel)
    for days in (2, 20):
        IntegrityFinding.objects.create(
            video=checked[0],
            zone=kursk,
            zone_name="kursk",
            file_name=checked[0].file_name,
            found_at=now - timedelta(days=days),
            kind=IntegrityFinding.Kind.MISMATCH,
        )
    return Site(now=now, kursk=kursk, orel=orel, off=off)
