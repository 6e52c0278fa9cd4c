"""Demo workstations for ``make run``: a few in each health state, so the admin home's
dashboard and the workstation list show what they look like on a live site."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from zones.models import Zone

from .models import Workstation

# (host, minutes since the last heartbeat, minutes since the last delivery (None: never),
#  waiting recordings, last error). Quiet after OPVIDEO_WORKSTATION_QUIET_HOURS (3 h).
DEMO_WORKSTATIONS = [
    ("demo-op-101", 2, 2, 0, ""),
    ("demo-op-102", 4, 4, 1, ""),
    ("demo-op-103", 1, 31, 0, ""),
    ("demo-op-104", 6, 6, 0, ""),
    ("demo-op-105", 3, 3, 2, ""),
    ("demo-op-106", 9, 9, 0, ""),
    ("demo-op-107", 5, 5, 0, ""),
    ("demo-op-201", 60 * 26, 60 * 26, 14, ""),  # switched off since yesterday
    ("demo-op-202", 60 * 5, 60 * 5, 3, ""),
    (
        "demo-op-301",
        2,
        60 * 30,
        37,
        "37 recording(s) not sent, kept here: ssh: connect to host 127.0.0.1 port 22: "
        "Connection refused",
    ),
]


def demo_workstations_load(*, zone: Zone, now: datetime) -> int:
    """Create or refresh the demo workstations (their times relative to ``now``)."""
    with transaction.atomic():
        for host, seen, success, waiting, error in DEMO_WORKSTATIONS:
            Workstation.objects.update_or_create(
                host=host,
                defaults={
                    "zone": zone,
                    "zone_name": zone.name,
                    "last_seen": now - timedelta(minutes=seen),
                    "last_success": now - timedelta(minutes=success),
                    "pending_count": waiting,
                    "delivered_count": 0 if error else 3,
                    "last_error": error,
                    "version": "demo",
                },
            )
    return len(DEMO_WORKSTATIONS)
