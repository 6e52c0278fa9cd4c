"""Reconciliation: a zone's VIDEO rows against the files in its PATH_DST.

Two ways they drift apart: a live row whose file is gone (deleted by hand, a disk replaced),
and a file no row knows (an upload whose registration failed, a copy put there by hand). The
report is always safe to run. ``fix`` records the missing files as deleted, the way the
purge records a file it finds already gone (their previews and notes go too); a row under
legal hold is reported and never marked, because the hold says someone still needs that
recording. Orphans are deleted only
when asked for explicitly, and only if they have sat there unregistered for a while: a
workstation uploads first and registers right after, so a fresh file with no row is most
likely one being registered at this very moment.

A third way: a live row whose file is there but is not the file the row describes
(storage.content, the rule the purge applies before deleting): another size, or, with
``verify_content``, another content than the row's hash. It is reported and never "fixed":
which of the two is right (the row, or the file) is for a person to find out, and the purge
keeps such a file. Sizes come from the lstat every row gets anyway; hashes mean reading
every file, so only when asked, and then every file with a hash is read, whatever the
integrity check found before.

Both walks are batched (rows by id, files by directory entries), so memory does not grow
with the size of the zone.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from zones.models import Zone

from .content import READ_FLAGS, ChangedWhileRead, Described, described_compare, fd_read
from .media.tree import previews_remove
from .models import Video, VideoNote
from .paths import FileRemover, Removal, UnsafePath, file_path_resolve, root_open, stored_files
from .retention import retention_today, zone_storage_root

logger = logging.getLogger(__name__)

# A file with no row younger than this is never called an orphan to delete.
ORPHAN_MIN_AGE = timedelta(hours=24)


class Finding:
    MISSING = "missing"  # live row, no file
    MISSING_HELD = "missing, on legal hold"  # the same, but the hold forbids marking it
    MARKED_DELETED = "marked deleted"  # --fix recorded a missing file as deleted
    UNSAFE_NAME = "unsafe name"  # the row's FILE_NAME is refused by file_path_resolve
    NOT_A_FILE = "not a file"  # the row's path is a directory or another non-file
    DIFFERS = "differs from its row"  # there, but another size or content than the row says
    UNREADABLE = "unreadable"  # --verify-content could not read it
    ORPHAN = "orphan"  # file, no row
    ORPHAN_TOO_NEW = "orphan, too new to delete"
    ORPHAN_DELETED = "orphan deleted"
    ORPHAN_NOT_DELETED = "orphan not deleted"
    DELETED_BUT_PRESENT = "recorded deleted, file present"


@dataclass
class ReconcileSummary:
    zone: str
    rows_checked: int = 0
    files_checked: int = 0
    missing: int = 0
    missing_held: int = 0
    marked_deleted: int = 0
    unsafe_names: int = 0
    not_files: int = 0
    differs: int = 0
    unreadable: int = 0
    contents_read: int = 0
    orphans: int = 0
    orphans_too_new: int = 0
    orphans_deleted: int = 0
    orphans_not_deleted: int = 0
    orphan_bytes_deleted: int = 0
    deleted_but_present: int = 0

    def lines(self) -> list[str]:
        return [
            f"zone {self.zone}: {self.rows_checked} live rows, {self.files_checked} files",
            f"missing files: {self.missing} (on legal hold: {self.missing_held}), "
            f"marked deleted: {self.marked_deleted}",
            f"unsafe names: {self.unsafe_names}, rows pointing at a non-file: {self.not_files}",
            f"files that differ from their row: {self.differs} (contents read: "
            f"{self.contents_read}, unreadable: {self.unreadable})",
            f"orphans: {self.orphans} (too new to delete: {self.orphans_too_new}), "
            f"deleted: {self.orphans_deleted} ({self.orphan_bytes_deleted} bytes), "
            f"not deleted: {self.orphans_not_deleted}",
            f"recorded deleted but still on disk: {self.deleted_but_present}",
        ]


Report = Callable[[str, str, str], None]  # (finding, file name, detail)


def videos_reconcile(
    *,
    zone: Zone,
    fix: bool = False,
    delete_orphans: bool = False,
    verify_content: bool = False,
    orphan_min_age: timedelta = ORPHAN_MIN_AGE,
    batch_size: int | None = None,
    report: Report | None = None,
) -> ReconcileSummary:
    """Compare the zone's rows with its files; with ``fix``, record missing files as
    deleted; with ``delete_orphans``, delete files no row knows that are older than
    ``orphan_min_age``. Every live row's file is compared with the row's size, and with
    ``verify_content`` read and compared with the row's hash too. Every finding goes to
    ``report`` as it is found.

    Raises ``storage.retention.PurgeError`` when PATH_DST is not there: with the storage
    unmounted every file would look missing, and ``fix`` would record them all as deleted.
    """
    root = zone_storage_root(zone=zone)
    batch_size = batch_size or settings.OPVIDEO_PURGE_BATCH_SIZE
    summary = ReconcileSummary(zone=zone.name)

    def found(finding: str, name: str, detail: str = "") -> None:
        if report:
            report(finding, name, detail)

    _rows_pass(
        zone=zone,
        root=root,
        fix=fix,
        verify_content=verify_content,
        batch_size=batch_size,
        s=summary,
        found=found,
    )
    _files_pass(
        zone=zone,
        root=root,
        delete=delete_orphans,
        min_age=orphan_min_age,
        batch_size=batch_size,
        s=summary,
        found=found,
    )
    return summary


# --- rows without files ---------------------------------------------------------------------


def _file_state(*, root: str, name: str) -> str | None:
    """None if the row's file is there as a regular file, else the finding."""
    return _file_lstat(root=root, name=name)[0]


def _file_lstat(*, root: str, name: str) -> tuple[str | None, os.stat_result | None, str]:
    """(finding or None, the file's lstat when it is a regular file, its path)."""
    try:
        path = file_path_resolve(root=root, file_name=name)
    except UnsafePath:
        return Finding.UNSAFE_NAME, None, ""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return Finding.MISSING, None, str(path)
    if not stat.S_ISREG(st.st_mode):
        return Finding.NOT_A_FILE, None, str(path)
    return None, st, str(path)


def _content_state(
    *, path: str, st: os.stat_result, described: Described, read: bool
) -> tuple[str | None, str, bool]:
    """(finding or None, detail, whether the file was read) for a regular file against what
    its row says. Reads it only if ``read`` and only its hash can tell; never through a
    symlink, and only the inode ``st`` shows."""
    same, reason = described_compare(st=st, described=described)
    if same is None and read:
        try:
            fd = os.open(path, READ_FLAGS)
        except OSError as exc:
            return Finding.UNREADABLE, exc.strerror or str(exc), False
        try:
            opened = os.fstat(fd)
            if (opened.st_ino, opened.st_dev) != (st.st_ino, st.st_dev):
                return Finding.UNREADABLE, "replaced while it was checked", False
            reading = fd_read(fd)
        except (OSError, ChangedWhileRead) as exc:
            return Finding.UNREADABLE, getattr(exc, "strerror", None) or str(exc), False
        finally:
            os.close(fd)
        same, reason = described_compare(st=st, described=described, reading=reading)
        if same is None:  # written to between the lstat and the reading
            return Finding.UNREADABLE, "changed while it was checked", True
        return (Finding.DIFFERS if same is False else None), reason, True
    return (Finding.DIFFERS if same is False else None), reason, False


def _rows_pass(*, zone, root, fix, verify_content, batch_size, s: ReconcileSummary, found) -> None:
    last_id = 0
    while True:
        batch = list(
            Video.objects.filter(zone=zone, delete_date__isnull=True, id__gt=last_id)
            .order_by("id")
            .values_list("id", "file_name", "legal_hold", "size", "content_hash")[:batch_size]
        )
        if not batch:
            return
        last_id = batch[-1][0]
        s.rows_checked += len(batch)
        missing = []
        for video_id, name, held, size, content_hash in batch:
            state, st, path = _file_lstat(root=root, name=name)
            if state is None:
                described = Described.from_row(
                    size=size, content_hash=content_hash if verify_content else None
                )
                if described is None:
                    continue
                state, detail, was_read = _content_state(
                    path=path, st=st, described=described, read=verify_content
                )
                s.contents_read += was_read
                if state == Finding.DIFFERS:
                    s.differs += 1
                    found(state, name, f"id={video_id}: {detail}")
                elif state == Finding.UNREADABLE:
                    s.unreadable += 1
                    found(state, name, f"id={video_id}: {detail}")
                continue
            if state == Finding.UNSAFE_NAME:
                s.unsafe_names += 1
                found(state, name, f"id={video_id}")
            elif state == Finding.NOT_A_FILE:
                s.not_files += 1
                found(state, name, f"id={video_id}")
            elif held:
                s.missing_held += 1
                s.missing += 1
                found(Finding.MISSING_HELD, name, f"id={video_id}")
            else:
                s.missing += 1
                found(Finding.MISSING, name, f"id={video_id}")
                missing.append(video_id)
        if fix and missing:
            for name in _mark_missing_deleted(zone=zone, root=root, ids=missing):
                s.marked_deleted += 1
                found(Finding.MARKED_DELETED, name, "")


def _mark_missing_deleted(*, zone: Zone, root: str, ids: list[int]) -> list[str]:
    """Record DELETE_DATE for the rows whose file is still missing once they are locked
    (a hold placed meanwhile wins, as in the purge); one UPDATE. Returns their names."""
    with transaction.atomic():
        locked = list(
            Video.objects.filter(zone=zone, id__in=ids, delete_date__isnull=True, legal_hold=False)
            .select_for_update()
            .order_by("id")
            .values_list("id", "file_name")
        )
        gone = [
            (video_id, name)
            for video_id, name in locked
            if _file_state(root=root, name=name) == Finding.MISSING
        ]
        if gone:
            ids = [video_id for video_id, _n in gone]
            Video.objects.filter(id__in=ids).update(delete_date=retention_today())
            # What the purge deletes with a recording goes with one recorded gone here too.
            VideoNote.objects.filter(video_id__in=ids).delete()
            _previews_remove(root=root, names=[name for _id, name in gone])
    return [name for _id, name in gone]


def _previews_remove(*, root: str, names: list[str]) -> None:
    try:
        root_fd = root_open(root=root)
    except (UnsafePath, OSError) as exc:
        logger.warning("previews of %d recordings recorded deleted left: %s", len(names), exc)
        return
    try:
        for name in names:
            problem = previews_remove(root_fd=root_fd, file_name=name)
            if problem:
                logger.warning("previews of %r (recorded deleted) left: %s", name, problem)
    finally:
        os.close(root_fd)


# --- files without rows ---------------------------------------------------------------------


def _files_pass(*, zone, root, delete, min_age, batch_size, s: ReconcileSummary, found) -> None:
    def flush(chunk: list[tuple[str, os.stat_result]]) -> None:
        _files_chunk(
            zone=zone, root=root, chunk=chunk, delete=delete, min_age=min_age, s=s, found=found
        )

    chunk: list[tuple[str, os.stat_result]] = []
    for item in stored_files(root):
        chunk.append(item)
        if len(chunk) >= batch_size:
            flush(chunk)
            chunk = []
    if chunk:
        flush(chunk)


def _rows_by_name(*, zone: Zone, names: list[str]) -> dict[str, object]:
    return dict(
        Video.objects.filter(zone=zone, file_name__in=names).values_list("file_name", "delete_date")
    )


def _files_chunk(*, zone, root, chunk, delete, min_age, s: ReconcileSummary, found) -> None:
    s.files_checked += len(chunk)
    rows = _rows_by_name(zone=zone, names=[name for name, _st in chunk])
    oldest_allowed = timezone.now().timestamp() - min_age.total_seconds()
    to_delete = []
    for name, st in chunk:
        if name in rows:
            if rows[name] is not None:
                s.deleted_but_present += 1
                found(Finding.DELETED_BUT_PRESENT, name, f"DELETE_DATE {rows[name]}")
            continue
        s.orphans += 1
        # ctime, not mtime: rsync keeps the recording's own mtime, but the inode changes
        # when the upload is renamed into place, so ctime says when the file arrived here.
        if st.st_ctime > oldest_allowed:
            s.orphans_too_new += 1
            found(Finding.ORPHAN_TOO_NEW, name, f"{st.st_size} bytes")
        else:
            found(Finding.ORPHAN, name, f"{st.st_size} bytes")
            to_delete.append(name)
    if not (delete and to_delete):
        return
    # Ask again right before deleting: a row registered meanwhile makes it no orphan.
    registered = _rows_by_name(zone=zone, names=to_delete)
    with FileRemover(root=root) as remover:
        for name in to_delete:
            if name in registered:
                continue
            result = remover.remove(file_name=name)
            if result.outcome == Removal.DELETED:
                s.orphans_deleted += 1
                s.orphan_bytes_deleted += result.size
                found(Finding.ORPHAN_DELETED, name, f"{result.size} bytes")
            elif result.outcome != Removal.MISSING:
                s.orphans_not_deleted += 1
                found(Finding.ORPHAN_NOT_DELETED, name, result.reason or result.outcome.value)
