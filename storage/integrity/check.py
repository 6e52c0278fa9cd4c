"""The integrity check (fixity): a zone's stored recordings re-read against their hash.

Runs on the zone's storage server, as the zone worker, next to the files. Each run takes the
zone's rows that are due (never checked, or last checked more than ``OPVIDEO_FIXITY_DAYS``
ago; a row with DELETE_DATE is done and skipped), least recently checked first, in batches,
reads each file through SHA-256 no faster than ``OPVIDEO_FIXITY_MB_PER_S`` and stops starting
new files after ``OPVIDEO_FIXITY_RUN_SECONDS``, so the purge waiting on the same queue gets
its turn and the next run continues where this one stopped.

Per row: the same bytes → checked and intact; no hash yet (an old client's row) → the hash
is taken here and marked as taken on storage; anything else (other content, another size,
the file missing or unreadable, a link at its name) → an ``IntegrityFinding`` and the row
marked failed. Nothing is ever repaired, renamed or deleted: a person decides. A row already
failed the same way is not reported again at every run, only when what is found changes.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet, Sum

from zones.models import Zone

from ..locks import zone_lock
from ..models import HashOrigin, IntegrityFinding, Video
from ..paths import UnsafePath, root_open
from ..retention import PurgeError, zone_storage_root
from .reading import ReadOutcome, ReadPacer, ReadResult, file_hash_read

logger = logging.getLogger(__name__)

# What the check reads and writes, by field. The zone worker's database user is granted
# exactly these on top of the purge's (storage.grants), so the tests fail on anything else.
FIXITY_VIDEO_READ_FIELDS = (
    "id",
    "zone",
    "file_name",
    "size",
    "content_hash",
    "delete_date",
    "integrity_checked_at",
    "integrity_ok",
)
FIXITY_VIDEO_WRITE_FIELDS = ("content_hash", "hash_origin", "integrity_checked_at", "integrity_ok")
# Its findings: written, and read back to tell a new finding from one already reported.
FIXITY_FINDING_PRIVILEGES = ("SELECT", "INSERT")

# Rows read from the database at a time: memory stays flat whatever the zone's size.
BATCH_SIZE = 200
MB = 1_000_000


class IntegrityCheckError(Exception):
    """The check cannot run at all (nothing was changed); the message says why."""


@dataclass
class IntegritySummary:
    """What one run did, for the command's line, the task's result and the log."""

    zone: str
    checked: int = 0
    ok: int = 0
    hashed_on_storage: int = 0
    findings: int = 0  # new finding rows written
    failed: int = 0  # rows that failed (including ones already reported the same way)
    bytes_read: int = 0
    seconds: float = 0.0
    stopped_early: bool = False  # the run's time (or --limit) ended before the due rows did
    due_left: int = 0
    zone_bytes: int = 0  # live recordings' bytes, what a period must read
    budget_mb_per_s: float = 0.0
    needed_mb_per_s: float = 0.0  # the reading rate that covers zone_bytes in a period
    behind: bool = False  # the budget cannot cover the zone in OPVIDEO_FIXITY_DAYS

    def line(self) -> str:
        budget = f"{self.budget_mb_per_s:g} MB/s" if self.budget_mb_per_s else "unthrottled"
        schedule = "BEHIND schedule" if self.behind else "on schedule"
        return (
            f"zone {self.zone}: checked {self.checked}, ok {self.ok}, hashed on storage "
            f"{self.hashed_on_storage}, failed {self.failed}, new findings {self.findings}, "
            f"read {self.bytes_read} bytes in {self.seconds:.1f} s (budget {budget}), "
            f"still due {self.due_left}; {schedule} (needs {self.needed_mb_per_s:.2f} MB/s "
            f"to read {self.zone_bytes} bytes every {settings.OPVIDEO_FIXITY_DAYS} days)"
        )

    def as_dict(self) -> dict:
        return asdict(self)


def videos_integrity_due(*, zone: Zone, now: datetime) -> QuerySet[Video]:
    """The zone's live rows whose check is due, least recently checked first (NULL, never
    checked, sorts first in MariaDB): a range of the VIDEO_INTEGRITY_DUE_IDX index."""
    stale = now - timedelta(days=settings.OPVIDEO_FIXITY_DAYS)
    return (
        Video.objects.filter(zone=zone, delete_date__isnull=True)
        .filter(Q(integrity_checked_at__isnull=True) | Q(integrity_checked_at__lt=stale))
        .order_by("integrity_checked_at", "id")
    )


def videos_verify_integrity(
    *,
    zone: Zone,
    now: datetime,
    limit: int | None = None,
    budget_seconds: float | None = None,
    mb_per_s: float | None = None,
) -> IntegritySummary:
    """Check the zone's due recordings against their hash; see the module's docstring.

    ``limit`` caps the rows checked, ``budget_seconds`` the run's length
    (``OPVIDEO_FIXITY_RUN_SECONDS``), ``mb_per_s`` the reading rate
    (``OPVIDEO_FIXITY_MB_PER_S``; 0 unthrottled). Raises ``IntegrityCheckError`` when it
    cannot run: PATH_DST missing on this host (every file would look missing) or a link,
    or another check of the zone running.
    """
    if budget_seconds is None:
        budget_seconds = settings.OPVIDEO_FIXITY_RUN_SECONDS
    if mb_per_s is None:
        mb_per_s = settings.OPVIDEO_FIXITY_MB_PER_S
    summary = IntegritySummary(zone=zone.name, budget_mb_per_s=max(mb_per_s, 0.0))
    try:
        root = zone_storage_root(zone=zone)
    except PurgeError as exc:
        message = str(exc).replace("nothing was changed", "nothing was checked")
        raise IntegrityCheckError(message) from None
    started = time.monotonic()
    pacer = ReadPacer(bytes_per_s=mb_per_s * MB)
    # One check per zone at a time, across hosts (a command while the schedule's runs): two
    # would read every file twice, over the budget.
    busy = IntegrityCheckError(f"another integrity check of zone {zone.name} is running")
    with zone_lock(kind="fixity", zone=zone, busy=busy):
        try:
            root_fd = root_open(root=root)
        except (UnsafePath, OSError) as exc:
            raise IntegrityCheckError(f"zone {zone.name}: {exc}; nothing checked") from None
        try:
            for row in _due_rows(zone=zone, now=now):
                if limit is not None and summary.checked >= limit:
                    summary.stopped_early = True
                    break
                if time.monotonic() - started >= budget_seconds:
                    summary.stopped_early = True
                    break
                _check_row(row=row, zone=zone, now=now, root_fd=root_fd, pacer=pacer, s=summary)
        finally:
            os.close(root_fd)
    summary.seconds = time.monotonic() - started
    _schedule_judge(zone=zone, now=now, summary=summary)
    log = logger.warning if summary.behind or summary.findings else logger.info
    log("integrity check finished: %s", summary.line())
    if summary.behind:
        logger.warning(
            "integrity check of zone %s cannot keep up: %s MB/s reads its %s bytes in more "
            "than %s days; raise OPVIDEO_FIXITY_MB_PER_S (needs %.2f) or the run length",
            zone.name,
            summary.budget_mb_per_s,
            summary.zone_bytes,
            settings.OPVIDEO_FIXITY_DAYS,
            summary.needed_mb_per_s,
        )
    return summary


@dataclass(frozen=True)
class _Row:
    id: int
    file_name: str
    size: int | None
    content_hash: str | None
    integrity_ok: bool | None


def _due_rows(*, zone: Zone, now: datetime) -> Iterator[_Row]:
    """Due rows, BATCH_SIZE at a time. Every row handled gets INTEGRITY_CHECKED_AT = now and
    so leaves the due set: each batch is a fresh query from the index's start. Rows of the
    previous batch are skipped should one come back (a write that did not happen)."""
    previous: set[int] = set()
    while True:
        batch = [
            _Row(*values)
            for values in videos_integrity_due(zone=zone, now=now)
            .exclude(id__in=previous)
            .values_list("id", "file_name", "size", "content_hash", "integrity_ok")[:BATCH_SIZE]
        ]
        if not batch:
            return
        yield from batch
        previous = {row.id for row in batch}


def _check_row(
    *, row: _Row, zone: Zone, now: datetime, root_fd: int, pacer: ReadPacer, s: IntegritySummary
) -> None:
    result = file_hash_read(
        root_fd=root_fd, file_name=row.file_name, pacer=pacer, size_expected=row.size
    )
    s.bytes_read += result.bytes_read
    finding = _finding_for(row=row, result=result)
    with transaction.atomic():
        # The purge locks a batch's rows while it deletes their files: a file found missing
        # because the purge just deleted it is seen here as a row with DELETE_DATE, and left.
        live = (
            Video.objects.select_for_update()
            .filter(pk=row.id, delete_date__isnull=True)
            .values_list("id", flat=True)
            .first()
        )
        if live is None:
            return
        s.checked += 1
        rows = Video.objects.filter(pk=row.id)
        if finding is None:
            if row.content_hash is None:
                rows.filter(content_hash__isnull=True).update(
                    content_hash=result.sha256,
                    hash_origin=HashOrigin.STORAGE,
                    integrity_checked_at=now,
                    integrity_ok=True,
                )
                s.hashed_on_storage += 1
            else:
                rows.update(integrity_checked_at=now, integrity_ok=True)
                if row.integrity_ok is False:
                    logger.warning(
                        "integrity of zone %s, %r: intact again (was failed)",
                        zone.name,
                        row.file_name,
                    )
            s.ok += 1
            return
        rows.update(integrity_checked_at=now, integrity_ok=False)
        s.failed += 1
        if row.integrity_ok is False and _same_as_last(video_id=row.id, finding=finding):
            return  # reported already, nothing new: no second row for the same fact
        IntegrityFinding.objects.create(
            video_id=row.id, zone=zone, zone_name=zone.name, found_at=now, **finding
        )
        s.findings += 1
        logger.warning(
            "integrity of zone %s, %r: %s %s",
            zone.name,
            row.file_name,
            finding["kind"],
            finding["detail"],
        )


def _finding_for(*, row: _Row, result: ReadResult) -> dict | None:
    """The finding's fields for what was read, or None when the file is what the row says."""
    expected = {
        "file_name": row.file_name,
        "expected_hash": row.content_hash or "",
        "expected_size": row.size,
    }
    if result.outcome == ReadOutcome.MISSING:
        return {**expected, "kind": IntegrityFinding.Kind.MISSING, "detail": ""}
    if result.outcome == ReadOutcome.UNREADABLE:
        return {**expected, "kind": IntegrityFinding.Kind.UNREADABLE, "detail": result.reason}
    if row.size is not None and result.size != row.size:
        return {
            **expected,
            "kind": IntegrityFinding.Kind.SIZE,
            "actual_size": result.size,
            "detail": "",
        }
    if row.content_hash is not None and result.sha256 != row.content_hash.lower():
        return {
            **expected,
            "kind": IntegrityFinding.Kind.MISMATCH,
            "actual_hash": result.sha256,
            "actual_size": result.size,
            "detail": "",
        }
    return None


def _same_as_last(*, video_id: int, finding: dict) -> bool:
    last = (
        IntegrityFinding.objects.filter(video_id=video_id)
        .order_by("-found_at", "-id")
        .values("kind", "actual_hash", "actual_size", "detail")
        .first()
    )
    if last is None:
        return False
    found = {"actual_hash": "", "actual_size": None, **finding}
    return all(last[name] == found[name] for name in last)


def _schedule_judge(*, zone: Zone, now: datetime, summary: IntegritySummary) -> None:
    """Whether the budget reads the zone's bytes within OPVIDEO_FIXITY_DAYS, with runs of
    OPVIDEO_FIXITY_RUN_SECONDS every OPVIDEO_FIXITY_INTERVAL_MINUTES: said, not silently
    fallen behind."""
    if summary.stopped_early:
        summary.due_left = videos_integrity_due(zone=zone, now=now).count()
    summary.zone_bytes = (
        Video.objects.filter(zone=zone, delete_date__isnull=True).aggregate(total=Sum("size"))[
            "total"
        ]
        or 0
    )
    period = settings.OPVIDEO_FIXITY_DAYS * 86400
    interval = max(settings.OPVIDEO_FIXITY_INTERVAL_MINUTES * 60, 1)
    reading_share = min(1.0, settings.OPVIDEO_FIXITY_RUN_SECONDS / interval)
    summary.needed_mb_per_s = summary.zone_bytes / MB / (period * reading_share)
    summary.behind = bool(summary.budget_mb_per_s) and (
        summary.needed_mb_per_s > summary.budget_mb_per_s
    )
