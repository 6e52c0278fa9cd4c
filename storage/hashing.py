"""The content hash that identifies a recording: SHA-256 of the whole file, lowercase hex.

One definition for everybody who reads a recording's bytes: the workstation client before
it sends a file, the zone worker when it re-reads a stored one, the purge before it deletes
one. They must agree to the bit, so the algorithm and the reading live here only.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable

HASH_NAME = "sha256"
HEX_LENGTH = 64
# Large reads: hashlib releases the GIL for them, and a syscall per MiB costs nothing next
# to the hashing (bench/integrity.py compares with sha256sum). A small file gets a small
# buffer: zeroing a MiB for each of 100,000 short files costs more than hashing them.
CHUNK = 1 << 20
SMALL_CHUNK = 1 << 16

_HEX = re.compile(r"[0-9a-f]{64}")


def is_content_hash(value: object) -> bool:
    """A well-formed hash as VIDEO.HASH holds it."""
    return isinstance(value, str) and _HEX.fullmatch(value) is not None


def fd_hash(fd: int, *, after_chunk: Callable[[int], None] | None = None) -> tuple[str, int]:
    """(hex SHA-256, bytes read) of what ``fd`` reads from its current offset to the end.

    ``after_chunk(n)`` is called after each read of ``n`` bytes: the integrity check paces
    its reading there.
    """
    digest = hashlib.new(HASH_NAME)
    buffer = bytearray(min(CHUNK, max(SMALL_CHUNK, os.fstat(fd).st_size + 1)))
    view = memoryview(buffer)
    total = 0
    while True:
        n = os.readv(fd, [buffer])
        if not n:
            break
        digest.update(view[:n])
        total += n
        if after_chunk is not None:
            after_chunk(n)
    return digest.hexdigest(), total
