"""The demo data set that ``make run`` loads: a zone, a login and a few real recordings, read
by the zone worker's media read (start times, durations, previews) as on a storage server.

Idempotent, so ``make run`` can be repeated: what exists is kept, what is missing is made.
"""

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from zones.file_names import file_name_ids
from zones.models import Zone
from zones.services import zone_create

from .media.read import MediaSummary, videos_media_read
from .models import Video
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
    return summary
