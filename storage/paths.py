"""Where a recording lives on its storage server, and the refusal of anything that would
reach outside the zone's PATH_DST.

One rule for every place that touches a file by its ``FILE_NAME`` (the embedded player, the
retention purge, reconciliation): the name is relative, made of plain segments, with no
symbolic link anywhere on the way, and it resolves inside PATH_DST.
"""

import enum
import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path


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


def root_check(*, root: str | Path) -> Path:
    """PATH_DST as an absolute path, refused if it is or passes through a symlink."""
    root_path = Path(os.path.abspath(root))
    if os.path.realpath(root_path) != str(root_path):
        raise UnsafePath("PATH_DST itself is or passes through a symlink")
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


@dataclass(frozen=True)
class RemovalResult:
    outcome: Removal
    size: int = 0  # bytes the file took (for DELETED and WOULD_DELETE)
    reason: str = ""


# Open a directory without following a symlink, so what was checked is what is used.
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


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
    """
    try:
        *directories, base = file_name_check(file_name=file_name)
        root_check(root=root)
    except UnsafePath as exc:
        return RemovalResult(Removal.REFUSED, reason=str(exc))
    try:
        fd = os.open(os.path.abspath(root), _DIR_FLAGS)
    except OSError as exc:
        return RemovalResult(Removal.FAILED, reason=f"PATH_DST: {_os_reason(exc)}")
    try:
        for part in directories:
            try:
                next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                return RemovalResult(Removal.MISSING)
            except NotADirectoryError:
                # Linux answers ENOTDIR, not ELOOP, for a symlink opened with O_DIRECTORY |
                # O_NOFOLLOW: tell a symlink (refused) from a plain file (nothing here).
                if _is_symlink_at(part, dir_fd=fd):
                    return RemovalResult(Removal.REFUSED, reason="symbolic link in the path")
                return RemovalResult(Removal.MISSING)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    return RemovalResult(Removal.REFUSED, reason="symbolic link in the path")
                return RemovalResult(Removal.FAILED, reason=_os_reason(exc))
            os.close(fd)
            fd = next_fd
        try:
            st = os.stat(base, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            return RemovalResult(Removal.MISSING)
        except OSError as exc:
            return RemovalResult(Removal.FAILED, reason=_os_reason(exc))
        if stat.S_ISLNK(st.st_mode):
            return RemovalResult(Removal.REFUSED, reason="symbolic link in the path")
        if not stat.S_ISREG(st.st_mode):
            return RemovalResult(Removal.FAILED, reason="not a regular file")
        if not st.st_mode & _ANY_WRITE:
            return RemovalResult(Removal.FAILED, reason="write-protected file")
        if not os.fstat(fd).st_mode & _ANY_WRITE:
            return RemovalResult(Removal.FAILED, reason="write-protected directory")
        if dry_run:
            return RemovalResult(Removal.WOULD_DELETE, size=st.st_size)
        try:
            os.unlink(base, dir_fd=fd)
        except FileNotFoundError:
            return RemovalResult(Removal.MISSING)
        except OSError as exc:
            return RemovalResult(Removal.FAILED, reason=_os_reason(exc))
        return RemovalResult(Removal.DELETED, size=st.st_size)
    finally:
        os.close(fd)


def _is_symlink_at(name: str, *, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


_ANY_WRITE = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def _os_reason(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, "")
    return f"{exc.strerror or exc} ({name})" if name else str(exc.strerror or exc)
