"""Retention: which recordings have expired, and the purge that deletes them.

The rule, stated here once (the README says the same in words):

    A recording expires when RECORDING_DATE + days < today, where days is its own
    STORAGE_DAYS or, when that is empty, its zone's RETENTION_DAYS, and today is the date
    in settings.TIME_ZONE. It is kept through its last day, RECORDING_DATE + days, and
    deleted from the day after. A recording under legal hold never expires while the hold
    lasts. A row with DELETE_DATE set is done and never touched again. A recording's
    previews and notes go with it.

The purge (``videos_purge_expired``) runs on the zone's storage server, which mounts
PATH_DST. It walks the expired rows in batches keyed by id, so its memory does not grow with
their number. For each batch it locks the rows and checks them against the rule again (a
legal hold placed a moment ago, or a longer retention, wins), deletes the files, and records
DELETE_DATE for the deleted and the already-missing ones in one UPDATE, in the same
transaction. A file is deleted before its row says so: a run killed in between leaves a row
whose file is gone, which the next run counts as missing and records, so running it again
always reaches the same end state. A file that cannot be deleted, or whose name would reach
outside PATH_DST, keeps its row untouched and is reported; the run goes on. A recording
recorded as deleted loses its previews (PATH_DST/.previews/<FILE_NAME>/) with its file and
its notes (storage.VideoNote) in the batch's transaction.

A file is deleted only if it is the file its row describes (storage.content: its size and,
where the row has one, its hash). One that is not (a row pre-written for a name another
workstation was to upload, a cloned workstation's file under another's name) is kept, its
row untouched, and counted as "differs". Where no integrity check vouches for a file as it
is now, its content is read before the batch's rows are locked, so the locks are not held
for the time a batch of recordings takes to read; under the lock the file only has to be
shown unchanged since (same inode, same ctime).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from datetime import date, timedelta

from django.conf import settings
from django.db import NotSupportedError, transaction
from django.db.models import DateField, Expression, F, Func, IntegerField, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from zones.models import Zone

from .content import Described, Reading
from .locks import zone_lock, zone_lock_name
from .media.tree import previews_remove
from .models import PurgeRun, Video, VideoNote
from .paths import FileRemover, Removal, RemovalResult, UnsafePath, root_check
from .purge_summary import PurgeItem, PurgeSummary

logger = logging.getLogger(__name__)

# Everything the retention worker reads and writes, by field. Its database user is granted
# exactly these (storage.grants), so a query touching anything else fails in the tests.
PURGE_ZONE_FIELDS = ("id", "name", "enabled", "path_dst", "retention_days")
PURGE_VIDEO_READ_FIELDS = (
    "id",
    "zone",
    "file_name",
    "recording_date",
    "storage_days",
    "delete_date",
    "legal_hold",
    "size",
    "content_hash",
    "integrity_checked_at",
    "integrity_ok",
)
PURGE_VIDEO_WRITE_FIELDS = ("delete_date",)
# A deleted recording's notes go with it (its previews too, from PATH_DST/.previews): deleted
# by their recording's id, which the database reads to find them, and never read otherwise.
PURGE_NOTE_READ_FIELDS = ("video",)


class PurgeError(Exception):
    """The purge cannot run at all (nothing was changed); the message says why."""


class PurgeAlreadyRunning(PurgeError):
    """Another purge of the same zone holds the zone's lock."""


# --- the rule -------------------------------------------------------------------------------


class AddDays(Func):
    """``date + n days`` for an integer expression ``n`` (a column): the ORM has no portable
    spelling for adding a per-row number of days to a date."""

    arity = 2
    output_field = DateField()

    def _parts(self, compiler, connection):
        date_sql, date_params = compiler.compile(self.source_expressions[0])
        days_sql, days_params = compiler.compile(self.source_expressions[1])
        return date_sql, days_sql, (*date_params, *days_params)

    def as_mysql(self, compiler, connection, **extra_context):
        date_sql, days_sql, params = self._parts(compiler, connection)
        return f"DATE_ADD({date_sql}, INTERVAL ({days_sql}) DAY)", params

    def as_sqlite(self, compiler, connection, **extra_context):
        date_sql, days_sql, params = self._parts(compiler, connection)
        return f"date({date_sql}, '+' || ({days_sql}) || ' days')", params

    def as_postgresql(self, compiler, connection, **extra_context):
        date_sql, days_sql, params = self._parts(compiler, connection)
        return f"(({date_sql}) + ({days_sql}) * INTERVAL '1 day')::date", params

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"AddDays is not implemented for {connection.vendor}")


def expiry_date(*, retention_days: Expression | int | None = None) -> AddDays:
    """The last day a recording is kept: RECORDING_DATE + (STORAGE_DAYS or RETENTION_DAYS).

    ``retention_days`` is the zone's value when the caller already has it (no join); by
    default it is read from the recording's zone.
    """
    if retention_days is None:
        retention_days = F("zone__retention_days")
    elif isinstance(retention_days, int):
        retention_days = Value(retention_days)
    days = Coalesce(F("storage_days"), retention_days, output_field=IntegerField())
    return AddDays(F("recording_date"), days)


def video_kept_until(*, video: Video) -> date:
    """The last day ``video`` is kept under the rule, in Python, for pages that show it:
    the same date ``expiry_date`` computes in the database (a hold and a deletion are the
    caller's to say; this is only the rule). Reads ``video.zone`` when the row has no days
    of its own, so attach the zones first."""
    days = video.storage_days if video.storage_days is not None else video.zone.retention_days
    return video.recording_date + timedelta(days=days)


def purge_zones() -> QuerySet[Zone]:
    """Zones as the retention worker may read them: the columns it needs and no others (none
    of the secrets: a storage server holds no key to decrypt them)."""
    return Zone.objects.only(*PURGE_ZONE_FIELDS)


def retention_today() -> date:
    """Today in the project's time zone, the day the rule compares with."""
    return timezone.localdate(timezone=timezone.get_default_timezone())


def videos_expired(
    *, zone: Zone, today: date, retention_days: int | None = None
) -> QuerySet[Video]:
    """The zone's recordings the rule says to delete on ``today`` and not yet deleted."""
    if retention_days is None:
        retention_days = zone.retention_days
    return (
        Video.objects.filter(zone=zone, delete_date__isnull=True, legal_hold=False)
        .alias(kept_until=expiry_date(retention_days=retention_days))
        .filter(kept_until__lt=today)
    )


# --- the purge ------------------------------------------------------------------------------


def videos_purge_expired(
    *,
    zone: Zone,
    today: date | None = None,
    dry_run: bool = False,
    trigger: str = PurgeRun.Trigger.COMMAND,
    batch_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    each: Callable[[PurgeItem], None] | None = None,
) -> PurgeSummary:
    """Delete the zone's expired recordings from PATH_DST and record their DELETE_DATE.

    ``today`` may be given to purge as of an earlier day (never a later one: that would
    delete recordings still to be kept). ``dry_run`` deletes and records nothing and reports
    what a run would do. ``progress`` is called with the number of rows each batch handled,
    ``each`` with every row's outcome. A real run is recorded as a ``PurgeRun``.

    Raises ``PurgeError`` when it cannot run at all: a date in the future, PATH_DST missing
    on this host (deleting nothing, rather than recording every file as gone), or another
    purge of the zone still running.
    """
    local_today = retention_today()
    today = today or local_today
    if today > local_today:
        raise PurgeError(
            f"{today.isoformat()} is after today ({local_today.isoformat()} in "
            f"{settings.TIME_ZONE}): purging as of a future day would delete recordings "
            "that must still be kept"
        )
    batch_size = batch_size or settings.OPVIDEO_PURGE_BATCH_SIZE
    summary = PurgeSummary(zone=zone.name, today=today, dry_run=dry_run)
    if dry_run:
        root = zone_storage_root(zone=zone)
        for batch in _expired_batches(zone=zone, today=today, batch_size=batch_size):
            with FileRemover(root=root) as remover:
                for video_id, file_name, *described in batch:
                    result = remover.remove(
                        file_name=file_name, dry_run=True, described=_described(described)
                    )
                    _handle(summary, each, video_id, file_name, result)
            if progress:
                progress(len(batch))
        return summary

    # One purge per zone at a time. Two at once would still be correct (the row locks see to
    # that), but the lock is what lets a run declare the zone's earlier 'running' runs dead.
    busy = PurgeAlreadyRunning(f"another purge of zone {zone.name} is running")
    with zone_lock(kind="purge", zone=zone, busy=busy):
        run = _run_start(zone=zone, today=today, trigger=trigger)
        summary.run_id = run.pk
        try:
            root = zone_storage_root(zone=zone)
            for batch in _expired_batches(zone=zone, today=today, batch_size=batch_size):
                _purge_batch(
                    zone=zone,
                    today=today,
                    root=root,
                    listed=batch,
                    run=run,
                    summary=summary,
                    each=each,
                )
                if progress:
                    progress(len(batch))
        except Exception as exc:
            _run_end(run=run, summary=summary, status=PurgeRun.Status.FAILED, error=exc)
            raise
        except BaseException as exc:  # KeyboardInterrupt, SystemExit: stopped from outside
            _run_end(run=run, summary=summary, status=PurgeRun.Status.INTERRUPTED, error=exc)
            raise
        _run_end(run=run, summary=summary, status=PurgeRun.Status.FINISHED)
    logger.info("purge finished: %s", summary.line())
    return summary


def _handle(
    summary: PurgeSummary,
    each: Callable[[PurgeItem], None] | None,
    video_id: int,
    file_name: str,
    result: RemovalResult,
) -> PurgeItem:
    item = PurgeItem(video_id, file_name, result.outcome, result.size, result.reason)
    summary.add(item)
    if each:
        each(item)
    return item


def zone_storage_root(*, zone: Zone) -> str:
    """The zone's PATH_DST on this host, checked once before anything is touched.

    A storage directory that is not there (a mount that failed, a worker on the wrong
    host) would make every file look already deleted; refusing to run keeps the rows as
    they are until the directory is back.
    """
    if not os.path.isdir(zone.path_dst):
        raise PurgeError(
            f"PATH_DST {zone.path_dst} of zone {zone.name} is not a directory on this host "
            "(is the storage mounted? is this the zone's storage server?); nothing was changed"
        )
    try:
        return str(root_check(root=zone.path_dst))
    except UnsafePath as exc:
        raise PurgeError(
            f"PATH_DST {zone.path_dst} of zone {zone.name} is or passes through a symbolic "
            "link; nothing was changed"
        ) from exc


# What a purge reads of each expired row: which file, and what the row says the file is.
_ROW_FIELDS = ("id", "file_name", "size", "content_hash", "integrity_checked_at", "integrity_ok")


def _described(columns) -> Described | None:
    """What a row's (size, content_hash, integrity_checked_at, integrity_ok) say its file is."""
    size, content_hash, checked_at, ok = columns
    return Described.from_row(
        size=size, content_hash=content_hash, integrity_checked_at=checked_at, integrity_ok=ok
    )


def _expired_batches(*, zone: Zone, today: date, batch_size: int) -> Iterator[list]:
    """The expired rows (``_ROW_FIELDS``), ``batch_size`` at a time, in id order.

    Each batch is a fresh keyset query (id greater than the last one seen), so nothing
    accumulates whatever the number of rows, and rows left behind (refused, failed) are not
    met again in the same run.
    """
    last_id = 0
    while True:
        batch = list(
            videos_expired(zone=zone, today=today, retention_days=_retention_days(zone=zone))
            .filter(id__gt=last_id)
            .order_by("id")
            .values_list(*_ROW_FIELDS)[:batch_size]
        )
        if not batch:
            return
        yield batch
        last_id = batch[-1][0]


def _retention_days(*, zone: Zone) -> int:
    """The zone's retention as it is now: an admin may lengthen it while a purge runs."""
    return Zone.objects.values_list("retention_days", flat=True).get(pk=zone.pk)


def _purge_batch(
    *,
    zone: Zone,
    today: date,
    root: str,
    listed: list[tuple],
    run: PurgeRun,
    summary: PurgeSummary,
    each: Callable[[PurgeItem], None] | None,
) -> None:
    """Delete one batch's files and record it, in one transaction holding the rows' locks.

    The rows are locked and checked against the rule again first: a legal hold is placed
    under the same lock (``video_legal_hold_set``), so either the hold came first and the
    row is skipped, or the purge came first and the hold waits for it.

    Files with a hash and no verification are read first, before the lock
    (``FileRemover.read``): a legal hold waiting on the batch's rows must not time out
    while recordings are read. One remover a batch: PATH_DST and each directory are opened
    once for the batch's files (and only re-checked per file); the next batch opens them
    afresh.
    """
    with FileRemover(root=root) as remover:
        readings: dict[int, Reading] = {}
        for video_id, file_name, *columns in listed:
            described = _described(columns)
            # A file the integrity check verified is, in the steady state, not read at all:
            # not even looked at here, which would cost every file a walk and an lstat more.
            # One changed since its check (rare) is read under the lock instead.
            if described is not None and described.content_hash and not described.verified_at_ns:
                reading = remover.read(file_name=file_name, described=described)
                if reading is not None:
                    readings[video_id] = reading
        with transaction.atomic():
            _purge_locked(
                zone=zone,
                today=today,
                remover=remover,
                ids=[row[0] for row in listed],
                readings=readings,
                run=run,
                summary=summary,
                each=each,
            )


def _purge_locked(
    *,
    zone: Zone,
    today: date,
    remover: FileRemover,
    ids: list[int],
    readings: dict[int, Reading],
    run: PurgeRun,
    summary: PurgeSummary,
    each: Callable[[PurgeItem], None] | None,
) -> None:
    """The part of ``_purge_batch`` under the rows' locks (the caller's transaction). The
    rows are read again under the lock: what they say now is what the files must match."""
    locked = list(
        videos_expired(zone=zone, today=today, retention_days=_retention_days(zone=zone))
        .filter(id__in=ids)
        .order_by("id")
        .select_for_update()
        .values_list(*_ROW_FIELDS)
    )
    before = (summary.deleted, summary.missing, summary.refused, summary.failed, summary.differs)
    bytes_before = summary.bytes_freed
    summary.skipped += len(ids) - len(locked)
    # The notes' DELETE is tried (on no row: ids start at 1) before any file is touched: a
    # worker whose database grants predate the notes fails here, with every file and row as
    # they were, not after deleting files it then could not record.
    if locked:
        VideoNote.objects.filter(video_id=0).delete()
    done = []
    for video_id, file_name, *columns in locked:
        result = remover.remove(
            file_name=file_name, described=_described(columns), reading=readings.get(video_id)
        )
        item = _handle(summary, each, video_id, file_name, result)
        if item.outcome in (Removal.DELETED, Removal.MISSING):
            done.append(video_id)
            _previews_remove(remover=remover, video_id=video_id, file_name=file_name, s=summary)
    if done:
        Video.objects.filter(id__in=done).update(delete_date=retention_today())
        VideoNote.objects.filter(video_id__in=done).delete()
    PurgeRun.objects.filter(pk=run.pk).update(
        deleted=F("deleted") + summary.deleted - before[0],
        missing=F("missing") + summary.missing - before[1],
        refused=F("refused") + summary.refused - before[2],
        failed=F("failed") + summary.failed - before[3],
        differs=F("differs") + summary.differs - before[4],
        bytes_freed=F("bytes_freed") + summary.bytes_freed - bytes_before,
    )


def _previews_remove(*, remover: FileRemover, video_id: int, file_name: str, s: PurgeSummary):
    """The deleted recording's previews, from the PATH_DST the remover holds; a failure is
    reported and does not keep the recording's row from being recorded as deleted (its
    previews would otherwise outlive it only as files no link is ever made for)."""
    root_fd = remover.root_fd
    problem = (
        previews_remove(root_fd=root_fd, file_name=file_name)
        if root_fd is not None
        else "PATH_DST was replaced during the run"
    )
    if problem:
        s.note(f"previews not deleted: id={video_id} {file_name!r}: {problem}")


def _run_start(*, zone: Zone, today: date, trigger: str) -> PurgeRun:
    """Record the run (committed at once, so the admin sees it while it works).

    Runs of this zone still marked running died without saying so (killed, the host went
    down): this run holds the zone's lock, so none of them can still be alive.
    """
    now = timezone.now()
    with transaction.atomic():
        PurgeRun.objects.filter(zone=zone, status=PurgeRun.Status.RUNNING).update(
            status=PurgeRun.Status.INTERRUPTED, finished_at=now
        )
        return PurgeRun.objects.create(
            zone=zone,
            zone_name=zone.name,
            trigger=trigger,
            today=today,
            started_at=now,
            status=PurgeRun.Status.RUNNING,
        )


def _run_end(
    *,
    run: PurgeRun,
    summary: PurgeSummary,
    status: str,
    error: BaseException | None = None,
) -> None:
    problems = "\n".join(summary.problems)
    if summary.problem_count > len(summary.problems):
        problems += f"\n… and {summary.problem_count - len(summary.problems)} more (see the log)"
    try:
        PurgeRun.objects.filter(pk=run.pk).update(
            status=status,
            finished_at=timezone.now(),
            problems=problems,
            error="" if error is None else f"{type(error).__name__}: {error}"[:2000],
        )
    except Exception:
        # The database may be what failed; the original error is what must surface.
        logger.exception("could not record the end of purge run %s", run.pk)


def purge_lock_name(*, zone: Zone) -> str:
    """The MariaDB named lock a purge of ``zone`` holds."""
    return zone_lock_name(kind="purge", zone=zone)
