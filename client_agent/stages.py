"""The stages of delivering one batch of finished recordings: send (hashing each file while
rsync runs), verify, register, clean up. Each takes what the one before returned and gives
back a small result of its own; ``services`` strings them together and reports.

A recording leaves the workstation only when its exact bytes are proven on storage and in
VIDEO, as this workstation's row:

- its SHA-256 is read before anything else trusts it, on the same descriptor whose size and
  modification time are the file's look (``selectors.recording_hash``);
- a file this cycle sent is confirmed by the storage server (same size and time after the
  transfer); a file it did not send, because the name was already taken on storage, is
  compared by content (``StorageLink.verify(by_content=True)``): other bytes under the name
  are a collision, and the local file stays;
- its row is confirmed by workstation, name, size and hash (``storage.registration``);
- the local copy is removed only while it still has the look that was hashed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.db import DatabaseError, connections

from storage.registration import NewRecording, video_register_batch
from zones.models import Zone

from .logs import MAIN_LOGGER
from .selectors import LocalRecording, file_look, recording_hash
from .transfer import Failure, StorageLink

log = logging.getLogger(MAIN_LOGGER)


@dataclass(frozen=True)
class Hashed:
    ready: list[LocalRecording]  # with their content_hash
    changed: list[str]  # changed or gone before or while they were read: next cycle


def recordings_hash(*, directory: Path, recordings: Sequence[LocalRecording]) -> Hashed:
    ready, changed = [], []
    for recording in recordings:
        content_hash = recording_hash(directory=directory, recording=recording)
        if content_hash is None:
            changed.append(recording.name)
        else:
            ready.append(replace(recording, content_hash=content_hash))
    return Hashed(ready=ready, changed=changed)


@dataclass(frozen=True)
class Sending:
    hashed: Hashed
    attempted: frozenset[str]  # names rsync started sending this cycle
    failure: Failure | None


def batch_send(*, link: StorageLink, directory: Path, batch: Sequence[LocalRecording]) -> Sending:
    """Send the batch, hashing it while rsync reads it too (the second read comes from the
    page cache and costs no time of its own: bench/transfer.py)."""
    sent = link.send(
        names=[recording.name for recording in batch],
        meanwhile=lambda: recordings_hash(directory=directory, recordings=batch),
    )
    return Sending(hashed=sent.meanwhile, attempted=sent.attempted, failure=sent.failure)


@dataclass(frozen=True)
class Verified:
    delivered: list[LocalRecording] = field(default_factory=list)  # on storage, these bytes
    collisions: list[LocalRecording] = field(default_factory=list)  # other bytes under the name
    missing: list[str] = field(default_factory=list)  # not there: sent again next cycle
    failure: Failure | None = None  # the server could not be asked: nothing is known


def batch_verify(
    *, link: StorageLink, recordings: Sequence[LocalRecording], attempted: frozenset[str]
) -> Verified:
    """What the storage server holds of ``recordings``: those this cycle sent are checked by
    size and time, those it did not send (already there) by size and content."""
    sent = [r for r in recordings if r.name in attempted]
    found = [r for r in recordings if r.name not in attempted]
    delivered, collisions, missing = [], [], []
    for group, by_content in ((sent, False), (found, True)):
        if not group:
            continue
        answer = link.verify(names=[r.name for r in group], by_content=by_content)
        if answer.failure is not None:
            return Verified(failure=answer.failure)
        good, different = set(answer.delivered), set(answer.different)
        delivered += [r for r in group if r.name in good]
        collisions += [r for r in group if r.name in different]
        missing += answer.missing
    return Verified(delivered=delivered, collisions=collisions, missing=missing)


@dataclass(frozen=True)
class Registered:
    registered: list[LocalRecording] = field(default_factory=list)
    # VIDEO has a row under the name that is not this workstation's row for these bytes.
    conflicts: list[LocalRecording] = field(default_factory=list)
    error: str = ""  # the database could not be asked or refused the rows: all stay here
    unreachable: bool = False  # the error was the connection's, not a refusal of the rows


def batch_register(
    *, zone: Zone, workstation: str, recordings: Sequence[LocalRecording]
) -> Registered:
    if not recordings:
        return Registered()
    try:
        result = video_register_batch(
            zone=zone,
            workstation=workstation,
            files=[
                NewRecording(
                    file_name=r.stored_name,
                    session_id=r.session_id,
                    project_id=r.project_id,
                    recording_date=r.recording_date,
                    size=r.size,
                    content_hash=r.content_hash,
                )
                for r in recordings
            ],
        )
    except DatabaseError as exc:
        # MySQL's client-side errors (2000-2999: cannot connect, server gone) are the
        # network's; a server error (a CHECK, the database's own row checks) refuses the rows.
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        return Registered(error=str(exc), unreachable=2000 <= code < 3000)
    finally:
        connections.close_all()
    registered, conflicts = set(result.registered), set(result.conflicts)
    return Registered(
        registered=[r for r in recordings if r.stored_name in registered],
        conflicts=[r for r in recordings if r.stored_name in conflicts],
    )


def local_copies_remove(*, directory: Path, recordings: Sequence[LocalRecording]) -> list[str]:
    """Delete local copies that are still exactly what was sent; return the deleted names.

    A file whose size or modification time changed since it was hashed is not the file that
    was sent and registered, so it stays (and the next cycle reports the difference).
    """
    removed = []
    for recording in recordings:
        path = directory / recording.name
        if file_look(path=path) != recording.look:
            log.warning("%s changed after it was sent; the local file is kept", path)
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.error("cannot remove %s after delivering it: %s", path, exc.strerror)
            continue
        removed.append(recording.name)
    return removed
