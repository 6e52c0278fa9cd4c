"""The metrics tests' shared rows: a zone with every figure /metrics can export."""

from datetime import timedelta

import pytest
from django.utils import timezone

from client_agent.models import Workstation
from storage.models import IntegrityFinding, PurgeRun, StorageSnapshot, ZoneDay
from tests.factories import make_video, make_zone
from tests.metrics.scrape import GB, TOKEN


@pytest.fixture
def token(settings):
    settings.OPVIDEO_METRICS_TOKEN = TOKEN
    settings.OPVIDEO_METRICS_ALLOW = []
    return TOKEN


@pytest.fixture
def seeded(token):
    now = timezone.now()
    today = timezone.localdate(now)
    kursk = make_zone(name="kursk", retention_days=100)
    # A zone nothing has happened in yet; and a disabled one, not exported.
    make_zone(name="empty")
    make_zone(name="off", enabled=False)
    # 14 complete days of 10 GB in, 4 GB purged: 6 GB/day of growth.
    for back in range(1, 15):
        ZoneDay.objects.create(
            zone=kursk,
            day=today - timedelta(days=back),
            received=100 + back,
            received_bytes=10 * GB,
            purged=40,
            purged_bytes=4 * GB,
            updated_at=now,
        )
    ZoneDay.objects.create(zone=kursk, day=today, received=7, received_bytes=700, updated_at=now)
    StorageSnapshot.objects.create(
        zone=kursk,
        taken_at=now - timedelta(minutes=30),
        total_bytes=2000 * GB,
        used_bytes=1940 * GB,
        free_bytes=60 * GB,
        file_count=12345,
        file_bytes=1900 * GB,
        oldest_recording=today - timedelta(days=120),
    )
    make_video(zone=kursk, registered_at=now - timedelta(minutes=20))
    make_video(
        zone=kursk,
        registered_at=now - timedelta(hours=5),
        integrity_checked_at=now - timedelta(hours=2),
        integrity_ok=True,
    )
    seen = dict(last_seen=now, last_success=now)
    Workstation.objects.create(host="op1", zone=kursk, pending_count=3, **seen)
    Workstation.objects.create(host="op2", zone=kursk, pending_count=4, **seen)
    Workstation.objects.create(
        host="op3", zone=kursk, last_seen=now - timedelta(days=1), last_success=now
    )
    Workstation.objects.create(host="op4", zone=kursk, last_seen=now, last_success=None)
    Workstation.objects.create(host="lost", zone=None, zone_name="gone", **seen)
    PurgeRun.objects.create(
        zone=kursk,
        zone_name="kursk",
        trigger="schedule",
        status="finished",
        today=today - timedelta(days=1),
        started_at=now - timedelta(hours=25),
        finished_at=now - timedelta(hours=24, minutes=50),
        deleted=10,
        refused=2,
    )
    PurgeRun.objects.create(
        zone=kursk,
        zone_name="kursk",
        trigger="schedule",
        status="failed",
        today=today,
        started_at=now - timedelta(hours=1),
        finished_at=now - timedelta(minutes=50),
        deleted=5,
        missing=1,
        refused=3,
        failed=4,
        differs=1,
        bytes_freed=5 * GB,
    )
    for kind, hours in (("mismatch", 3), ("mismatch", 30), ("missing", 50)):
        IntegrityFinding.objects.create(
            zone=kursk,
            zone_name="kursk",
            file_name=b"x.mp4",
            found_at=now - timedelta(hours=hours),
            kind=kind,
        )
    return kursk
