"""The zone worker's reading of new recordings: what each is, when the call began, who took
it, and its previews (storage.media's other modules each do one of these).

Runs on the zone's storage server, next to the files, like the purge and the integrity
check. Each run takes the zone's rows not read yet (MEDIA_STATE pending, a range of
VIDEO_MEDIA_DUE_IDX), newest first so today's calls are ready within minutes while an
adopted backlog drains behind them, at most ``limit`` of them and no longer than
``OPVIDEO_MEDIA_RUN_SECONDS``; the next run continues. Per row:

- ffprobe reads duration, picture size and codec; one it cannot read (truncated, not a
  video) is marked failed with a short reason and not tried again (``MEDIA_STATE`` back to
  pending tries it again);
- the start time and operator come from the name or the file (storage.media.call);
- ffmpeg makes the previews under ``PATH_DST/.previews/<FILE_NAME>/``; if it cannot, the
  row is still read (its metadata stored), with the reason in MEDIA_ERROR and no preview.

Safe to run again and side by side: a row is written only while it is still pending and
live (under its lock, as the purge deletes under the same lock); previews made for a row
the purge deleted meanwhile are removed again; one run per zone at a time (a named lock).
Rows deleted before they were read are marked failed in bounded batches, so they leave the
pending range instead of being passed over by every run.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from zones.models import Zone

from ..integrity.reading import ReadOutcome, Unreachable, stored_file_open
from ..locks import zone_lock
from ..models import MediaState, Video
from ..paths import UnsafePath, root_open
from ..retention import PurgeError, zone_storage_root
from .call import call_name_read, call_operator, call_started_at
from .previews import PreviewError, previews_make
from .probe import REASON_LENGTH, MediaToolMissing, ProbeError, media_probe, media_tool
from .tree import PreviewPathError, preview_directory_make, previews_remove

logger = logging.getLogger(__name__)

# What the reading reads and writes, by field, on top of the purge's: the zone worker's
# database user is granted exactly these (storage.grants), so the tests fail on anything else.
MEDIA_ZONE_FIELDS = ("id", "file_name_pattern")
MEDIA_VIDEO_READ_FIELDS = ("id", "zone", "file_name", "delete_date", "media_state")
MEDIA_VIDEO_WRITE_FIELDS = (
    "started_at",
    "duration",
    "width",
    "height",
    "codec",
    "operator",
    "media_state",
    "media_error",
    "preview",
)

BATCH_SIZE = 50  # rows read from the database at a time
GONE_BATCH = 5000  # deleted rows still pending, marked per run
GONE_REASON = "deleted before it was read"


class MediaReadError(Exception):
    """The reading cannot run at all (nothing was changed); the message says why."""


@dataclass
class MediaSummary:
    """What one run did, for the command's line, the task's result and the log."""

    zone: str
    read: int = 0  # rows read (metadata stored)
    previews: int = 0  # of them, with previews
    failed: int = 0  # rows that could not be read
    gone: int = 0  # deleted rows still pending, marked
    seconds: float = 0.0
    stopped_early: bool = False  # the run's time or limit ended before the pending rows did
    pending_left: int = 0

    def line(self) -> str:
        return (
            f"zone {self.zone}: read {self.read} (with previews {self.previews}), failed "
            f"{self.failed}, deleted before reading {self.gone}, in {self.seconds:.1f} s; "
            f"still pending {self.pending_left}"
        )

    def as_dict(self) -> dict:
        return asdict(self)


def videos_media_due(*, zone: Zone) -> QuerySet[Video]:
    """The zone's live rows not read yet, newest first."""
    return Video.objects.filter(
        zone=zone, media_state=MediaState.PENDING, delete_date__isnull=True
    ).order_by("-id")


def videos_media_read(
    *,
    zone: Zone,
    now: datetime,
    limit: int | None = None,
    budget_seconds: float | None = None,
) -> MediaSummary:
    """Read the zone's pending recordings and make their previews; see the module docstring.

    ``limit`` caps the rows read (``OPVIDEO_MEDIA_RUN_LIMIT``), ``budget_seconds`` the time
    after which no new row is started (``OPVIDEO_MEDIA_RUN_SECONDS``). ``now`` bounds a start
    time taken from a file's modification time (a workstation's clock ahead of ours).
    Raises MediaReadError when it cannot run: ffprobe or ffmpeg missing, PATH_DST missing
    on this host or a link, or another reading of the zone running.
    """
    limit = limit if limit is not None else settings.OPVIDEO_MEDIA_RUN_LIMIT
    if budget_seconds is None:
        budget_seconds = settings.OPVIDEO_MEDIA_RUN_SECONDS
    try:
        media_tool("ffprobe")
        media_tool("ffmpeg")
        root = zone_storage_root(zone=zone)
    except (MediaToolMissing, PurgeError) as exc:
        message = str(exc).replace("nothing was changed", "nothing was read")
        raise MediaReadError(message) from None
    summary = MediaSummary(zone=zone.name)
    started = time.monotonic()
    busy = MediaReadError(f"another media read of zone {zone.name} is running")
    with zone_lock(kind="media", zone=zone, busy=busy):
        pattern = (
            Zone.objects.filter(pk=zone.pk).values_list("file_name_pattern", flat=True).first()
        )
        summary.gone = _gone_settle(zone=zone)
        try:
            root_fd = root_open(root=root)
        except (UnsafePath, OSError) as exc:
            raise MediaReadError(f"zone {zone.name}: {exc}; nothing read") from None
        try:
            for video_id, file_name in _due_rows(zone=zone):
                if summary.read + summary.failed >= limit:
                    summary.stopped_early = True
                    break
                if time.monotonic() - started >= budget_seconds:
                    summary.stopped_early = True
                    break
                _read_row(
                    video_id=video_id,
                    file_name=file_name,
                    root_fd=root_fd,
                    pattern=pattern or "",
                    now=now,
                    s=summary,
                )
        finally:
            os.close(root_fd)
    summary.seconds = time.monotonic() - started
    if summary.stopped_early:
        summary.pending_left = videos_media_due(zone=zone).count()
    logger.info("media read finished: %s", summary.line())
    return summary


def _due_rows(*, zone: Zone) -> Iterator[tuple[int, str]]:
    """(id, file name) of the pending rows, BATCH_SIZE at a time, each batch a fresh keyset
    query below the last id seen: a row that stays pending (its write lost to a concurrent
    change) is not met twice."""
    last_id = None
    while True:
        rows = videos_media_due(zone=zone)
        if last_id is not None:
            rows = rows.filter(id__lt=last_id)
        batch = list(rows.values_list("id", "file_name")[:BATCH_SIZE])
        if not batch:
            return
        yield from batch
        last_id = batch[-1][0]


def _gone_settle(*, zone: Zone) -> int:
    """Mark up to GONE_BATCH rows that were deleted before they were read, so that the
    pending range of the index holds only rows there is work for."""
    ids = list(
        Video.objects.filter(
            zone=zone, media_state=MediaState.PENDING, delete_date__isnull=False
        ).values_list("id", flat=True)[:GONE_BATCH]
    )
    if not ids:
        return 0
    return Video.objects.filter(id__in=ids, media_state=MediaState.PENDING).update(
        media_state=MediaState.FAILED, media_error=GONE_REASON
    )


def _read_row(
    *, video_id: int, file_name: str, root_fd: int, pattern: str, now: datetime, s: MediaSummary
) -> None:
    try:
        fd = stored_file_open(root_fd=root_fd, file_name=file_name)
    except Unreachable as exc:
        missing = exc.result.outcome == ReadOutcome.MISSING
        reason = "the file is not on storage" if missing else f"unreadable: {exc}"
        _failed(video_id=video_id, file_name=file_name, reason=reason, root_fd=root_fd, s=s)
        return
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            _failed(
                video_id=video_id,
                file_name=file_name,
                reason="not a regular file",
                root_fd=root_fd,
                s=s,
            )
            return
        try:
            probe = media_probe(fd=fd)
        except ProbeError as exc:
            _failed(video_id=video_id, file_name=file_name, reason=str(exc), root_fd=root_fd, s=s)
            return
        named = call_name_read(file_name=file_name, pattern=pattern)
        values = {
            "started_at": call_started_at(
                named=named, modified=min(st.st_mtime, now.timestamp()), duration=probe.duration
            ),
            "duration": probe.duration,
            "width": probe.width,
            "height": probe.height,
            "codec": probe.codec,
            "operator": call_operator(named=named),
            "media_state": MediaState.DONE,
            "media_error": "",
            "preview": None,
        }
        try:
            dir_fd = preview_directory_make(root_fd=root_fd, file_name=file_name)
            try:
                values["preview"] = previews_make(fd=fd, probe=probe, dir_fd=dir_fd)
            finally:
                os.close(dir_fd)
        except (PreviewError, PreviewPathError, ProbeError, OSError) as exc:
            values["media_error"] = f"no previews: {exc}"[:REASON_LENGTH]
            logger.warning("media read of zone %s, %r: %s", s.zone, file_name, exc)
    finally:
        os.close(fd)
    if _store(video_id=video_id, file_name=file_name, values=values, root_fd=root_fd):
        s.read += 1
        s.previews += values["preview"] is not None


def _failed(*, video_id: int, file_name: str, reason: str, root_fd: int, s: MediaSummary) -> None:
    logger.warning("media read of zone %s, %r failed: %s", s.zone, file_name, reason)
    values = {"media_state": MediaState.FAILED, "media_error": reason[:REASON_LENGTH]}
    if _store(video_id=video_id, file_name=file_name, values=values, root_fd=root_fd):
        s.failed += 1


def _store(*, video_id: int, file_name: str, values: dict, root_fd: int) -> bool:
    """Write ``values`` to the row if it is still pending and live, under its lock (the
    purge deletes under the same lock). A row deleted meanwhile gets nothing, and previews
    just made for it are removed again; one read by another run meanwhile is left as that
    run wrote it."""
    with transaction.atomic():
        row = (
            Video.objects.select_for_update()
            .filter(pk=video_id)
            .values_list("media_state", "delete_date")
            .first()
        )
        if row is None:
            return False
        media_state, delete_date = row
        if delete_date is None:
            if media_state != MediaState.PENDING:
                return False  # read by another run: its values stand
            Video.objects.filter(pk=video_id).update(**values)
            return True
    problem = previews_remove(root_fd=root_fd, file_name=file_name)
    if problem:
        logger.warning("previews of the deleted %r left: %s", file_name, problem)
    return False
