"""Reading a stored recording for the integrity check: safely, and no faster than allowed.

The file is opened the way ``storage.paths`` deletes: relative to a descriptor of PATH_DST
opened without following links, one directory at a time with O_NOFOLLOW, the file itself with
O_NOFOLLOW, so a symbolic link anywhere on the way is reported, never followed, and nothing
outside PATH_DST is ever read. Names are the exact bytes stored in FILE_NAME (any script,
either normalisation form): they are passed to the system as they are.
"""

from __future__ import annotations

import enum
import errno
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..hashing import fd_hash
from ..paths import (
    _DIR_FLAGS,
    UnsafePath,
    _opened_a_symlink,
    _os_reason,
    file_name_check,
)

_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
SYMLINK = "a symbolic link is in the way: not followed"


class ReadOutcome(enum.Enum):
    READ = "read"
    MISSING = "missing"
    UNREADABLE = "unreadable"  # a link, not a plain file, an unsafe name, an I/O error


@dataclass(frozen=True)
class ReadResult:
    outcome: ReadOutcome
    size: int | None = None  # bytes the file has (fstat), when it could be opened
    sha256: str = ""  # the whole file's, when it was read
    bytes_read: int = 0
    reason: str = ""


class ReadPacer:
    """A token bucket over bytes read: sleeps so that reading averages at most
    ``bytes_per_s``, with at most ``burst_seconds`` worth of credit saved up while nothing
    was read (between files, during database work), so a pause is not followed by a burst
    at disk speed. The bucket starts empty: the first second already keeps the rate.
    ``bytes_per_s`` 0 (or less) does not pace at all.
    """

    def __init__(
        self,
        *,
        bytes_per_s: float,
        burst_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.rate = float(bytes_per_s)
        self._capacity = self.rate * burst_seconds
        self._tokens = 0.0
        self._clock = clock
        self._sleep = sleep
        self._last = clock()

    def spend(self, n: int) -> None:
        """Account for ``n`` bytes just read, sleeping as long as they overdraw the bucket."""
        if self.rate <= 0:
            return
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._last) * self.rate) - n
        self._last = now
        if self._tokens < 0:
            self._sleep(-self._tokens / self.rate)


class Unreachable(Exception):
    """A stored file that cannot be opened as the recording; ``result`` says how."""

    def __init__(self, result: ReadResult):
        super().__init__(result.reason or result.outcome.value)
        self.result = result


def stored_file_open(*, root_fd: int, file_name: str) -> int:
    """``file_name`` under the PATH_DST descriptor ``root_fd``, opened for reading without
    following a link anywhere on the way (a FIFO planted at the name does not block the
    open: the descriptor is non-blocking, see ``_hash_open_file``). The caller closes it
    and checks that it is a regular file. Raises ``Unreachable`` (missing, or why not)."""
    try:
        *directories, base = file_name_check(file_name=file_name)
    except UnsafePath as exc:
        raise Unreachable(
            ReadResult(ReadOutcome.UNREADABLE, reason=f"unsafe name: {exc}")
        ) from None
    opened: list[int] = []
    try:
        fd = root_fd
        for part in directories:
            try:
                fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if _opened_a_symlink(exc, part, dir_fd=fd):
                    raise Unreachable(ReadResult(ReadOutcome.UNREADABLE, reason=SYMLINK)) from None
                if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                    raise Unreachable(ReadResult(ReadOutcome.MISSING)) from None
                raise Unreachable(
                    ReadResult(ReadOutcome.UNREADABLE, reason=_os_reason(exc))
                ) from None
            opened.append(fd)
        try:
            return os.open(base, _FILE_FLAGS, dir_fd=fd)
        except FileNotFoundError:
            raise Unreachable(ReadResult(ReadOutcome.MISSING)) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a symlink at the name itself
                raise Unreachable(ReadResult(ReadOutcome.UNREADABLE, reason=SYMLINK)) from None
            raise Unreachable(ReadResult(ReadOutcome.UNREADABLE, reason=_os_reason(exc))) from None
    finally:
        for item in opened:
            os.close(item)


def file_hash_read(
    *, root_fd: int, file_name: str, pacer: ReadPacer | None = None, size_expected=None
) -> ReadResult:
    """Open ``file_name`` under the PATH_DST descriptor ``root_fd`` and hash it (SHA-256).

    When ``size_expected`` is given and the file has another size, it is not read: the size
    alone proves it is not the recording, and the budget is kept for files that need it.
    """
    try:
        file_fd = stored_file_open(root_fd=root_fd, file_name=file_name)
    except Unreachable as exc:
        return exc.result
    try:
        return _hash_open_file(file_fd, pacer=pacer, size_expected=size_expected)
    finally:
        os.close(file_fd)


def _hash_open_file(fd: int, *, pacer: ReadPacer | None, size_expected) -> ReadResult:
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return ReadResult(ReadOutcome.UNREADABLE, reason="not a regular file")
        if size_expected is not None and st.st_size != size_expected:
            return ReadResult(ReadOutcome.READ, size=st.st_size)
        # O_NONBLOCK only kept a FIFO planted at the name from blocking the open.
        os.set_blocking(fd, True)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        content_hash, total = fd_hash(fd, after_chunk=pacer.spend if pacer else None)
    except OSError as exc:
        return ReadResult(ReadOutcome.UNREADABLE, reason=_os_reason(exc))
    return ReadResult(ReadOutcome.READ, size=total, sha256=content_hash, bytes_read=total)
