"""The demo data set that ``make run`` loads: a zone, a login and a few real recordings, read
by the zone worker's media read (start times, durations, previews) as on a storage server.

Idempotent, so ``make run`` can be repeated: what exists is kept, what is missing is made.
"""

import os
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from zones.file_names import file_name_ids
from zones.models import Zone
from zones.services import zone_create

from .media.read import MediaSummary, videos_media_read
from .models import PurgeRun, StorageSnapshot, Video, ZoneDay
from .samples import sample_mp4_make

DEMO_ZONE = "demo"
DEMO_USER = "demo"

# (session id, project id, file names, deleted). The second session was transferred between
# two operators, so it has two recordings. The names carry the recorder's stamp, which gives
# each its recording date and start time, as on a real site.
DEMO_CALLS = [
    (
        "node_0_domain_0_nauss_0_1629126106_172352",
        "corebo00000000000ng9hgl5vhtinhmo",
        ["2026-11-27_10-15-02_node_0_domain_0_nauss_0_1629126106_172352.mp4"],
        False,
    ),
    (
        "node_0_domain_0_nauss_0_1629126555_190001",
        "corebo00000000000ng9hgl5vhtinhmo",
        [
            "op101/2026-11-26_14-02-40_node_0_domain_0_nauss_0_1629126555_190001.mp4",
            "op102/2026-11-26_14-09-13_node_0_domain_0_nauss_0_1629126555_190001.mp4",
        ],
        False,
    ),
    (
        "node_0_domain_0_nauss_0_1629120001_100001",
        "corebo00000000000aaaaaaaaaaaaaaaa",
        ["2026-06-01_09-00-00_node_0_domain_0_nauss_0_1629120001_100001.mp4"],
        True,
    ),
]
# Long enough for the thumbnails and the skip buttons to mean something, at a screen
# recorder's frame rate, so that `make run` stays quick.
DEMO_SECONDS = 45
DEMO_FRAME_RATE = 5


@dataclass
class DemoSummary:
    zone: Zone
    username: str
    session_ids: list[str] = field(default_factory=list)
    files_made: int = 0
    media: MediaSummary | None = None
    snapshots: int = 0


def demo_load(*, root: Path, username: str = DEMO_USER, password: str) -> DemoSummary:
    root = root.resolve()
    storage_dir = root / "storage"
    with transaction.atomic():
        user, _ = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()

        zone = Zone.objects.filter(name=DEMO_ZONE).first()
        if zone is None:
            zone = zone_create(
                name=DEMO_ZONE,
                server="127.0.0.1",
                ssh_user="opvideo",
                speed_kbps=3000,
                path_src=str(root / "workstation"),
                path_dst=str(storage_dir),
                file_extension="mp4",
                # No video server: with OPVIDEO_EMBEDDED_MEDIA the links point at the
                # web server itself, so the demo plays without nginx.
                public_address=None,
                public_port=None,
                retention_days=90,
            )

    summary = DemoSummary(zone=zone, username=username)
    today = timezone.localdate()
    for n, (session_id, project_id, names, deleted) in enumerate(DEMO_CALLS):
        summary.session_ids.append(session_id)
        for name in names:
            path = storage_dir / name
            if not deleted and not path.exists():
                sample_mp4_make(
                    path=path, seconds=DEMO_SECONDS, rate=DEMO_FRAME_RATE, tone_hz=330 + 110 * n
                )
                summary.files_made += 1
            named = file_name_ids(name=name.rsplit("/", 1)[-1])
            recorded = named.date if named and named.date else today
            if named and named.date and named.time and path.exists():
                # As a recorder leaves it: modified when the call ended. The worker believes
                # a name's date only near the file's own (zones.file_names.call_date_pick).
                began = datetime.combine(
                    named.date, named.time, tzinfo=timezone.get_current_timezone()
                )
                ended = began.timestamp() + DEMO_SECONDS
                os.utime(path, (ended, ended))
            video, _ = Video.objects.get_or_create(
                zone=zone,
                file_name=name,
                defaults={
                    "session_id": session_id,
                    "project_id": project_id,
                    "recording_date": recorded,
                    "delete_date": recorded + timedelta(days=90) if deleted else None,
                    "size": path.stat().st_size if path.exists() else None,
                    "workstation": name.split("/")[0] if "/" in name else "op100",
                },
            )
            if video.recording_date != recorded:  # a demo loaded before dates came from names
                Video.objects.filter(pk=video.pk).update(recording_date=recorded)
    # What the zone's worker does on a storage server, here in-process: the recordings not
    # read yet get their start, duration and previews.
    summary.media = videos_media_read(zone=zone, now=timezone.now())
    summary.snapshots = demo_capacity_load(zone=zone, now=timezone.now())
    return summary


# --- the dashboard's figures: what the zone worker would have recorded for 90 days ----------

DEMO_DAYS = 90
DEMO_DISK = 6 * 10**12  # a 6 TB array
DEMO_OTHER = 900 * 10**9  # what else the disk holds: the system, previews, old exports
DEMO_FREE_NOW = 520 * 10**9  # so the forecast says the disk fills in about six weeks
DEMO_MEAN_SIZE = 28 * 10**6  # a call's recording


def demo_day_figures(day: date) -> tuple[int, int, int, int]:
    """(received, bytes, purged, bytes) of a demo day: a call centre's week (quiet
    weekends), the same every time for the same day, with the purge lagging the arrivals
    as it does while a site grows."""
    rng = random.Random(day.toordinal())  # noqa: S311 - demo figures, not secrets
    weekend = day.weekday() >= 5
    received = rng.randint(250, 420) if weekend else rng.randint(1300, 1750)
    size = int(received * DEMO_MEAN_SIZE * rng.uniform(0.85, 1.15))
    purged = int(received * rng.uniform(0.55, 0.8))
    return received, size, purged, int(purged * DEMO_MEAN_SIZE)


def demo_capacity_load(*, zone: Zone, now: datetime) -> int:
    """Replace the demo zone's ZoneDay rows and storage snapshots with 90 plausible days
    (a snapshot an hour, as the zone's worker takes them).
    Returns the snapshots made. Only the demo zone's rows are touched."""
    today = timezone.localdate(now)
    first = today - timedelta(days=DEMO_DAYS - 1)
    figures = {
        first + timedelta(days=n): demo_day_figures(first + timedelta(days=n))
        for n in range(DEMO_DAYS)
    }
    with transaction.atomic():
        ZoneDay.objects.filter(zone=zone).delete()
        StorageSnapshot.objects.filter(zone=zone).delete()
        ZoneDay.objects.bulk_create(
            ZoneDay(
                zone=zone,
                day=day,
                received=received,
                received_bytes=size,
                purged=purged,
                purged_bytes=purged_bytes,
                updated_at=now,
            )
            for day, (received, size, purged, purged_bytes) in figures.items()
        )
        # Walk back from today's used bytes, undoing each day's net growth.
        used_at_end: dict[date, int] = {}
        used = DEMO_DISK - DEMO_FREE_NOW
        for day in sorted(figures, reverse=True):
            used_at_end[day] = used
            _, size, _, purged_bytes = figures[day]
            used -= size - purged_bytes
        tz = timezone.get_current_timezone()
        # Hourly, as the worker takes them (OPVIDEO_CAPACITY_INTERVAL_MINUTES).
        start = datetime.combine(first, time(0, 20), tzinfo=tz)
        hours = int((now - start).total_seconds() // 3600) + 1
        moments = [start + timedelta(hours=h) for h in range(hours)]
        snapshots = []
        for moment in moments:
            day = timezone.localdate(moment)
            _, size, _, purged_bytes = figures[day]
            # Within the day, the arrivals so far (working hours 8 to 20).
            share = min(max((timezone.localtime(moment).hour - 8) / 12, 0), 1)
            used = used_at_end[day] - int((size - purged_bytes) * (1 - share))
            snapshots.append(
                StorageSnapshot(
                    zone=zone,
                    taken_at=moment,
                    total_bytes=DEMO_DISK,
                    used_bytes=used,
                    free_bytes=DEMO_DISK - used,
                    file_count=(used - DEMO_OTHER) // DEMO_MEAN_SIZE,
                    file_bytes=used - DEMO_OTHER,
                    oldest_recording=day - timedelta(days=zone.retention_days),
                )
            )
        StorageSnapshot.objects.bulk_create(snapshots)
        if not PurgeRun.objects.filter(zone=zone).exists():
            started = datetime.combine(today, time(3), tzinfo=tz)
            if started > now:  # before three in the morning: last night's run
                started -= timedelta(days=1)
            _, _, purged, purged_bytes = figures[today - timedelta(days=1)]
            PurgeRun.objects.create(
                zone=zone,
                zone_name=zone.name,
                trigger=PurgeRun.Trigger.SCHEDULE,
                status=PurgeRun.Status.FINISHED,
                today=today,
                started_at=started,
                finished_at=started + timedelta(minutes=4),
                deleted=purged,
                bytes_freed=purged_bytes,
            )
    return len(snapshots)
