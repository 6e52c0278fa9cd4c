"""Whether a stored file is the file its VIDEO row describes: the one rule the purge and
``reconcile`` both apply before they treat a file as the row's.

    A row's file is the row's only if its size equals the row's SIZE (when the row has one)
    and its content's SHA-256 equals the row's HASH (when the row has one). A row with
    neither (an old client's) describes nothing to compare: its file is taken as it is.

Reading a whole recording is expensive, so the hash is taken from evidence where there is
some: the integrity check (storage.integrity) re-reads stored files and records when it
found one equal to its hash. A file whose status last changed (``st_ctime``: any write,
truncation, rename over it or chmod moves it) before that moment still has the bytes that
were verified, so it need not be read again. Otherwise the file is read through a
descriptor opened without following a symlink, and the reading counts only if the file did
not change while it was read.

Plain functions over ``os.stat_result`` and descriptors: no database, no paths, so the
callers (storage.paths for the purge, storage.reconcile) decide how a file is reached.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from .hashing import fd_hash

# A verification counts only for a file whose ctime is this much before it. ctime comes
# from the kernel's coarse clock (behind the real time by up to a tick), and on a network
# mount from the file server's clock, while the verification time is the worker's: the
# margin absorbs both, and costs nothing, since files are verified days after they arrive.
VERIFIED_CTIME_MARGIN_NS = 60 * 10**9


@dataclass(frozen=True)
class Described:
    """What a row says its file is."""

    size: int | None = None
    content_hash: str | None = None  # lowercase hex SHA-256
    # When the integrity check last read the file and found it equal to ``content_hash``
    # (nanoseconds since the epoch); None if it never did, or found it different.
    verified_at_ns: int | None = None

    @classmethod
    def from_row(
        cls,
        *,
        size: int | None,
        content_hash: str | None,
        integrity_checked_at: datetime | None = None,
        integrity_ok: bool | None = None,
    ) -> Described | None:
        """The description of a row's columns; None when it describes nothing (no size, no
        hash), so the caller need not compare at all."""
        if size is None and not content_hash:
            return None
        verified = None
        if content_hash and integrity_ok and integrity_checked_at is not None:
            verified = int(integrity_checked_at.timestamp() * 10**9)
        return cls(
            size=size,
            content_hash=content_hash.strip().lower() if content_hash else None,
            verified_at_ns=verified,
        )


@dataclass(frozen=True)
class Reading:
    """A file's SHA-256 as read through a descriptor, and which file that was: the inode
    and its ctime, which any change to the file would have moved."""

    ino: int
    dev: int
    ctime_ns: int
    size: int
    sha256: str

    def is_of(self, st: os.stat_result) -> bool:
        """Whether ``st`` (a later lstat) shows the same file, unchanged since the reading."""
        return (st.st_ino, st.st_dev, st.st_ctime_ns, st.st_size) == (
            self.ino,
            self.dev,
            self.ctime_ns,
            self.size,
        )


def described_compare(
    *, st: os.stat_result, described: Described, reading: Reading | None = None
) -> tuple[bool | None, str]:
    """Is the file whose lstat is ``st`` the one ``described``?

    (True, "") yes; (False, why) no; (None, "") only reading its content can tell (the row
    has a hash, no verification covers the file as it is now, and ``reading`` is not of it).
    """
    if described.size is not None and st.st_size != described.size:
        return False, f"size {st.st_size} bytes, the row says {described.size}"
    if not described.content_hash:
        return True, ""
    if (
        described.verified_at_ns is not None
        and st.st_ctime_ns < described.verified_at_ns - VERIFIED_CTIME_MARGIN_NS
    ):
        return True, ""
    if reading is None or not reading.is_of(st):
        return None, ""
    if reading.sha256 == described.content_hash:
        return True, ""
    return False, f"content SHA-256 {reading.sha256}, the row says {described.content_hash}"


class ChangedWhileRead(Exception):
    """The file changed while it was read: the digest describes no version of it."""


def fd_read(fd: int) -> Reading:
    """Hash the regular file freshly opened as ``fd`` (at offset 0), streamed.

    The file's status is taken before and after: if its ctime or size moved, something
    wrote to it meanwhile and ``ChangedWhileRead`` is raised. OSError (EIO, …) passes up.
    """
    before = os.fstat(fd)
    content_hash, offset = fd_hash(fd)
    after = os.fstat(fd)
    if (before.st_ctime_ns, before.st_size) != (after.st_ctime_ns, after.st_size) or (
        offset != after.st_size
    ):
        raise ChangedWhileRead("the file changed while it was read")
    return Reading(
        ino=after.st_ino,
        dev=after.st_dev,
        ctime_ns=after.st_ctime_ns,
        size=after.st_size,
        sha256=content_hash,
    )


# Never follow a symlink; never block on a FIFO swapped in for the file; not inherited.
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
