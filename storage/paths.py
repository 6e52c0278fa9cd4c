"""Where a recording lives on its storage server, and the refusal of anything that would
reach outside the zone's PATH_DST.

One rule for every place that touches a file by its ``FILE_NAME`` (the embedded player, the
retention purge, reconciliation): the name is relative, made of plain segments, with no
symbolic link anywhere on the way, and it resolves inside PATH_DST.
"""

from __future__ import annotations

import enum
import errno
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .content import READ_FLAGS, ChangedWhileRead, Described, Reading, described_compare, fd_read


class UnsafePath(ValueError):
    """A file name that must not be followed: it could reach outside PATH_DST."""


def file_name_check(*, file_name: str, allow_hidden: bool = False) -> list[str]:
    """The name's segments if its shape is safe (relative, plain segments), else UnsafePath.

    Only the string: what is on disk is for the callers to check.
    """
    if not file_name or "\x00" in file_name:
        raise UnsafePath("empty name or NUL byte")
    if file_name.startswith("/") or "\\" in file_name:
        raise UnsafePath("absolute name or backslash")
    parts = file_name.split("/")
    for part in parts:
        if part in {"", ".", ".."}:
            raise UnsafePath("empty, '.' or '..' segment")
        if part.startswith(".") and not allow_hidden:
            raise UnsafePath("hidden file or directory")
    return parts


ROOT_SYMLINK = "PATH_DST itself is or passes through a symlink"


def root_check(*, root: str | Path) -> Path:
    """PATH_DST as an absolute path, refused if it is or passes through a symlink."""
    root_path = Path(os.path.abspath(root))
    if os.path.realpath(root_path) != str(root_path):
        raise UnsafePath(ROOT_SYMLINK)
    return root_path


def file_path_resolve(*, root: str | Path, file_name: str, allow_hidden: bool = False) -> Path:
    """The absolute path of ``file_name`` under ``root``, or UnsafePath saying why not.

    The file itself need not exist (a purge treats a missing file as already deleted); every
    part of the path that does exist must be a real directory or file, not a symlink.
    """
    parts = file_name_check(file_name=file_name, allow_hidden=allow_hidden)
    root_path = root_check(root=root)
    candidate = root_path.joinpath(*parts)
    current = root_path
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise UnsafePath("symbolic link in the path")
    if os.path.commonpath([root_path, os.path.realpath(candidate)]) != str(root_path):
        raise UnsafePath("resolves outside PATH_DST")
    return candidate


class Removal(enum.Enum):
    DELETED = "deleted"  # the file was there and is gone now
    WOULD_DELETE = "would delete"  # dry run: it is there and nothing stands in the way
    MISSING = "missing"  # there was nothing to delete
    REFUSED = "refused"  # the name could reach outside PATH_DST: never followed
    FAILED = "failed"  # there, but not deleted: not a plain file, write-protected, an OS error
    # there, but not the file its row describes (storage.content): kept for a person to see
    DIFFERS = "differs"


@dataclass(frozen=True)
class RemovalResult:
    outcome: Removal
    size: int = 0  # bytes the file took (for DELETED and WOULD_DELETE)
    reason: str = ""


# Open a directory without following a symlink, so what was checked is what is used.
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# The same for PATH_DST's ancestors, which need only be searchable, not readable.
_PATH_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

# Directory descriptors a FileRemover keeps open at once. A purge batch of 500 recordings
# in per-operator directories needs a few hundred; a bound keeps a batch of deeply nested
# names from running out of descriptors (the cache is emptied and filled again).
DIRECTORY_FDS_KEPT = 256


class _Stop(Exception):
    """Ends one file's removal early with its result (raised inside FileRemover)."""

    def __init__(self, result: RemovalResult):
        self.result = result


class FileRemover:
    """Deletes recordings under one PATH_DST, opening PATH_DST and each directory below it
    once for many files instead of walking the path afresh for each.

    PATH_DST is opened when the remover is created, one component at a time from ``/``
    with O_NOFOLLOW, so it is refused if it is or passes through a symlink, also one swapped
    in while it is opened. A directory below it is opened with O_NOFOLLOW from its parent's
    descriptor the first time a file in it comes by, and the descriptor is kept. For every
    later file the kept chain is checked again, one ``lstat`` a directory relative to its
    parent's descriptor: if a name no longer is the directory that was opened (a symlink
    or anything else swapped in), every kept descriptor is dropped and the path walked
    afresh, which refuses a symlink; and PATH_DST must still name the directory opened as
    PATH_DST. So each file meets the same checks as a fresh walk would make, for one system
    call a directory instead of an open and a close, and a swap in the moment between the
    check and the unlink leaves the remover working in the directory it had checked: a link
    is never followed.

    Use it for one batch (``with FileRemover(root=...) as remover``): everything is closed
    at the end, and the next batch checks PATH_DST and opens its directories afresh.
    """

    def __init__(self, *, root: str | Path):
        # "a/b" (a directory under PATH_DST) -> (its descriptor, st_ino, st_dev when opened)
        self._dirs: dict[str, tuple[int, int, int]] = {}
        self._root_fd = -1
        self._root_result: RemovalResult | None = None  # PATH_DST unusable: every file's
        self._root_path = os.path.abspath(root)
        try:
            self._root_fd = _root_open(self._root_path)
        except _Stop as stop:
            self._root_result = stop.result
        else:
            st = os.fstat(self._root_fd)
            self._root_id = (st.st_ino, st.st_dev)

    def __enter__(self) -> FileRemover:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._dirs_close()
        if self._root_fd >= 0:
            os.close(self._root_fd)
            self._root_fd = -1

    @property
    def root_fd(self) -> int | None:
        """PATH_DST's descriptor, for other work under it in the same batch (a recording's
        previews, storage.media.tree), or None when PATH_DST could not be opened or no
        longer names the directory opened."""
        if self._root_result is not None or self._root_fd < 0:
            return None
        return self._root_fd if self._root_still_path_dst() is not None else None

    def remove(
        self,
        *,
        file_name: str,
        dry_run: bool = False,
        described: Described | None = None,
        reading: Reading | None = None,
    ) -> RemovalResult:
        """Delete ``file_name`` (relative to PATH_DST); see ``file_remove``.

        With ``described`` (what the file's row says it is), the file is deleted only if it
        is that file (``storage.content``), else it is kept as DIFFERS. ``reading`` is its
        content read earlier by ``read``; it is used only if the file is unchanged since.
        """
        try:
            dir_fd, dir_mode, base = self._locate(file_name)
            return _file_unlink(
                base,
                dir_fd=dir_fd,
                dir_mode=dir_mode,
                dry_run=dry_run,
                described=described,
                reading=reading,
            )
        except _Stop as stop:
            return stop.result

    def read(self, *, file_name: str, described: Described) -> Reading | None:
        """The content of ``file_name`` if ``remove`` would have to read it to compare it
        with ``described``, read now: a purge reads ahead, before it locks the rows, so a
        batch's rows are not held for the minutes its files can take to read. None when
        there is nothing to read or it cannot be read here; ``remove`` then says why."""
        try:
            dir_fd, _mode, base = self._locate(file_name)
            st = os.stat(base, dir_fd=dir_fd, follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                return None
            if described_compare(st=st, described=described)[0] is not None:
                return None
            return _read_at(base, dir_fd=dir_fd, st=st)
        except (_Stop, OSError):
            return None

    def _locate(self, file_name: str) -> tuple[int, int, str]:
        """The descriptor and mode of the directory holding ``file_name``, and its last
        segment, the chain checked as the class says; _Stop with the file's result if not."""
        try:
            *directories, base = file_name_check(file_name=file_name)
        except UnsafePath as exc:
            raise _Stop(RemovalResult(Removal.REFUSED, reason=str(exc))) from None
        if self._root_result is not None:
            raise _Stop(self._root_result)
        if self._root_fd < 0:
            raise ValueError("FileRemover used after close()")
        root_st = self._root_still_path_dst()
        if root_st is None:
            raise _Stop(
                RemovalResult(Removal.REFUSED, reason="PATH_DST was replaced during the run")
            )
        if len(self._dirs) >= DIRECTORY_FDS_KEPT:
            self._dirs_close()
        if directories:
            fd, mode = self._directory(directories)
            return fd, mode, base
        # The lstat that matched PATH_DST to its descriptor also gives its mode.
        return self._root_fd, root_st.st_mode, base

    def _root_still_path_dst(self) -> os.stat_result | None:
        """PATH_DST's stat if it still names the directory opened, else None: one renamed
        away (maybe out of the storage) is not worked in any longer, even by the descriptor
        kept for it."""
        try:
            st = os.lstat(self._root_path)
        except OSError:
            return None
        return st if (st.st_ino, st.st_dev) == self._root_id else None

    def _directory(self, parts: list[str]) -> tuple[int, int]:
        """The descriptor and current mode of the directory ``parts`` under PATH_DST."""
        fd, key, mode = self._root_fd, "", 0
        for part in parts:
            key = f"{key}/{part}" if key else part
            kept = self._dirs.get(key)
            if kept is not None:
                try:
                    st = os.stat(part, dir_fd=fd, follow_symlinks=False)
                except OSError:
                    st = None
                if st is None or st.st_ino != kept[1] or st.st_dev != kept[2]:
                    # Not the directory opened any more: forget them all (a rare event)
                    # and walk from PATH_DST again, refusing what is now a symlink.
                    self._dirs_close()
                    return self._directory(parts)
                fd, mode = kept[0], st.st_mode
            else:
                fd = _directory_open(part, dir_fd=fd)
                st = os.fstat(fd)
                self._dirs[key] = (fd, st.st_ino, st.st_dev)
                mode = st.st_mode
        return fd, mode

    def _dirs_close(self) -> None:
        for fd, _ino, _dev in self._dirs.values():
            os.close(fd)
        self._dirs.clear()


def file_remove(*, root: str | Path, file_name: str, dry_run: bool = False) -> RemovalResult:
    """Delete the recording ``file_name`` under ``root`` (a zone's PATH_DST), safely.

    The name must have a safe shape and PATH_DST must not pass through a symlink. The
    deletion then walks from ``root`` one directory at a time through file descriptors
    opened with O_NOFOLLOW and unlinks relative to the last one, so a symlink anywhere on the
    way is refused rather than followed, also one swapped in at the last moment: nothing
    outside ``root`` can be reached, whatever happens on disk meanwhile. (That walk is the
    symlink check, so the per-component checks of ``file_path_resolve`` are not repeated:
    they cost a dozen system calls a file, which a purge of 100,000 files notices.)

    Only a regular file is deleted. A file or directory nobody may write to (no ``w`` bit at
    all) was made read-only on purpose by an administrator: it is reported as failed, not
    deleted, even by a worker running as root, which the permission bits do not stop.

    For many files under one root, a ``FileRemover`` does the same with fewer system calls.
    """
    with FileRemover(root=root) as remover:
        return remover.remove(file_name=file_name, dry_run=dry_run)


def root_open(*, root: str | Path) -> int:
    """PATH_DST opened as a directory descriptor, walking from ``/`` with O_NOFOLLOW (the
    same walk the purge makes); UnsafePath if it is or passes through a link, OSError if it
    cannot be opened. The caller closes it."""
    try:
        return _root_open(os.path.abspath(root))
    except _Stop as stop:
        raise UnsafePath(f"PATH_DST {root}: {stop.result.reason}") from None


def _root_open(root: str) -> int:
    """PATH_DST (absolute) opened for use as the directory descriptor of its files, walking
    from ``/`` with O_NOFOLLOW: a symlink anywhere in it is refused (the check
    ``root_check`` makes with realpath, without the moment between checking and opening)."""
    parts = [part for part in root.split("/") if part]
    fd = os.open("/", _PATH_FLAGS if parts else _DIR_FLAGS)
    try:
        for n, part in enumerate(parts):
            flags = _DIR_FLAGS if n == len(parts) - 1 else _PATH_FLAGS
            try:
                next_fd = os.open(part, flags, dir_fd=fd)
            except OSError as exc:
                if _opened_a_symlink(exc, part, dir_fd=fd):
                    raise _Stop(RemovalResult(Removal.REFUSED, reason=ROOT_SYMLINK)) from None
                raise _Stop(
                    RemovalResult(Removal.FAILED, reason=f"PATH_DST: {_os_reason(exc)}")
                ) from None
            os.close(fd)
            fd = next_fd
    except BaseException:
        os.close(fd)
        raise
    return fd


def _directory_open(name: str, *, dir_fd: int) -> int:
    """The directory ``name`` in ``dir_fd``, opened without following a symlink; _Stop
    with the file's result when it is not there, not a directory or a symlink."""
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if _opened_a_symlink(exc, name, dir_fd=dir_fd):
            raise _Stop(_SYMLINK_REFUSED) from None
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):  # not there, or a plain file
            raise _Stop(RemovalResult(Removal.MISSING)) from None
        raise _Stop(RemovalResult(Removal.FAILED, reason=_os_reason(exc))) from None


def _opened_a_symlink(exc: OSError, name: str, *, dir_fd: int) -> bool:
    """Whether opening the directory ``name`` with O_NOFOLLOW failed because it is a
    symlink. Linux answers ELOOP, or ENOTDIR when O_DIRECTORY is given too, which a plain
    file also gets: that case is told apart by looking."""
    if exc.errno == errno.ELOOP:
        return True
    return exc.errno == errno.ENOTDIR and _is_symlink_at(name, dir_fd=dir_fd)


def _file_unlink(
    base: str,
    *,
    dir_fd: int,
    dir_mode: int,
    dry_run: bool,
    described: Described | None = None,
    reading: Reading | None = None,
) -> RemovalResult:
    """Delete the regular file ``base`` in the directory ``dir_fd``, whose mode is
    ``dir_mode``, or say why not; with ``described``, only if it is the file described."""
    try:
        st = os.stat(base, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return RemovalResult(Removal.MISSING)
    except OSError as exc:
        return RemovalResult(Removal.FAILED, reason=_os_reason(exc))
    if stat.S_ISLNK(st.st_mode):
        return _SYMLINK_REFUSED
    if not stat.S_ISREG(st.st_mode):
        return RemovalResult(Removal.FAILED, reason="not a regular file")
    if not st.st_mode & _ANY_WRITE:
        return RemovalResult(Removal.FAILED, reason="write-protected file")
    if not dir_mode & _ANY_WRITE:
        return RemovalResult(Removal.FAILED, reason="write-protected directory")
    if described is not None:
        differs = _described_check(base, dir_fd=dir_fd, st=st, described=described, reading=reading)
        if differs is not None:
            return differs
    if dry_run:
        return RemovalResult(Removal.WOULD_DELETE, size=st.st_size)
    try:
        os.unlink(base, dir_fd=dir_fd)
    except FileNotFoundError:
        return RemovalResult(Removal.MISSING)
    except OSError as exc:
        return RemovalResult(Removal.FAILED, reason=_os_reason(exc))
    return RemovalResult(Removal.DELETED, size=st.st_size)


def _described_check(
    base: str, *, dir_fd: int, st: os.stat_result, described: Described, reading: Reading | None
) -> RemovalResult | None:
    """None if the file (lstat ``st``) is the one ``described``, else the result to report.

    When the content must be read now, the reading must be of the inode ``st`` shows, and
    an lstat right before returning must still show that inode unchanged: a file swapped in
    or written to while it was read is not deleted on the strength of another's bytes (it
    fails, and the next run looks again).
    """
    same, reason = described_compare(st=st, described=described, reading=reading)
    if same is None:
        fresh = _read_at(base, dir_fd=dir_fd, st=st)
        same, reason = described_compare(st=st, described=described, reading=fresh)
        try:
            now = os.stat(base, dir_fd=dir_fd, follow_symlinks=False)
        except OSError as exc:
            return RemovalResult(Removal.FAILED, reason=_os_reason(exc))
        if same is None or not fresh.is_of(now):
            return RemovalResult(Removal.FAILED, reason=_CHANGED)
    if same:
        return None
    return RemovalResult(Removal.DIFFERS, size=st.st_size, reason=f"kept: {reason}")


_CHANGED = "changed while its content was compared with its row; tried again next run"


def _read_at(base: str, *, dir_fd: int, st: os.stat_result) -> Reading:
    """The content of the file ``base`` in ``dir_fd``, which must be the inode of ``st``
    (its lstat): opened without following a symlink, read through the descriptor; _Stop
    with a failure if it cannot be read, is another file by now, or changed while read."""
    try:
        fd = os.open(base, READ_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink swapped in since the lstat
            raise _Stop(_SYMLINK_REFUSED) from None
        raise _Stop(_unreadable(exc)) from None
    try:
        opened = os.fstat(fd)
        if (opened.st_ino, opened.st_dev) != (st.st_ino, st.st_dev):
            raise _Stop(RemovalResult(Removal.FAILED, reason=_CHANGED))
        return fd_read(fd)
    except ChangedWhileRead:
        raise _Stop(RemovalResult(Removal.FAILED, reason=_CHANGED)) from None
    except OSError as exc:
        raise _Stop(_unreadable(exc)) from None
    finally:
        os.close(fd)


def _unreadable(exc: OSError) -> RemovalResult:
    return RemovalResult(
        Removal.FAILED, reason=f"could not be read to compare with its row: {_os_reason(exc)}"
    )


_SYMLINK_REFUSED = RemovalResult(Removal.REFUSED, reason="symbolic link in the path")


def _is_symlink_at(name: str, *, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


_ANY_WRITE = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def _os_reason(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, "")
    return f"{exc.strerror or exc} ({name})" if name else str(exc.strerror or exc)


def stored_files(
    root: str, *, on_error: Callable[[str, OSError], None] | None = None
) -> Iterator[tuple[str, os.stat_result]]:
    """(name relative to ``root``, lstat) of every regular file under ``root``: the
    recordings as the storage tree holds them. A link is neither followed nor listed; hidden
    entries (the previews' ``.previews`` tree, rsync's uploads in progress) and the file
    system's lost+found are passed by. A directory or entry that cannot be read raises, or,
    given ``on_error``, is passed to it with the error and left out."""
    pending = [""]
    while pending:
        relative = pending.pop()
        directory = os.path.join(root, relative) if relative else root
        try:
            entries = os.scandir(directory)
        except OSError as exc:
            if on_error is None:
                raise
            on_error(directory, exc)
            continue
        with entries:
            for entry in entries:
                if entry.name.startswith(".") or (not relative and entry.name == "lost+found"):
                    continue
                name = f"{relative}/{entry.name}" if relative else entry.name
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError as exc:
                    if on_error is None:
                        raise
                    on_error(entry.path, exc)
                    continue
                if stat.S_ISDIR(st.st_mode):
                    pending.append(name)
                elif stat.S_ISREG(st.st_mode):
                    yield name, st
