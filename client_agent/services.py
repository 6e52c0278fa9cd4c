"""One cycle of the workstation client: find the zone, pick finished recordings, send them,
register what arrived, and only then remove the local copies.

The workstation's disk holds the only copy of a recording until it is on storage and in
VIDEO, so every step is arranged so that a failure anywhere (DNS, database, ssh, the
storage server, the client killed) leaves the recording where it is, to be picked up by the
next cycle, and so that repeating a step is harmless:

- a file is sent only once it is finished (settled and not growing);
- each batch goes through the stages of ``stages``: its bytes are hashed while they are sent,
  what arrived is asked of the storage server, by content where the name was already taken
  there, rows are inserted ignoring existing ones and read back, and a local copy is removed
  only if its row is this workstation's row for exactly these bytes and the file is still
  the one that was hashed (same size and modification time);
- a file storage or VIDEO holds other content for is a collision: kept, and reported in the
  log, the heartbeat and ``status``, never deleted.

No database connection is held across the slow parts: the zone's row is read and the
connection closed before anything is sent, and each registration opens and closes its own.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, connections
from django.utils import timezone

from zones import ssh_keys
from zones.detection import Resolver
from zones.models import Zone

from . import __version__, stages
from .conf import AgentConfig
from .logs import MAIN_LOGGER
from .models import Workstation
from .names import Unparseable
from .selectors import (
    LocalRecording,
    ScanKey,
    ZoneKeyError,
    agent_state_read,
    recordings_recheck,
    recordings_scan,
    zone_lookup,
    zone_ssh_key,
)
from .transfer import StorageLink, pinned_host_keys

log = logging.getLogger(MAIN_LOGGER)

# How many unparseable names a log line and the state file spell out.
NAMES_SHOWN = 20


@dataclass
class CycleReport:
    workstation: str
    started_at: datetime
    zone_name: str = ""
    zone_id: int | None = None
    delivered: list[str] = field(default_factory=list)
    waiting: int = 0  # recordings that should go and are still here (finished or not)
    unparseable: list[Unparseable] = field(default_factory=list)
    # Kept here because storage or VIDEO holds other content under the name: a person has
    # to compare them. Not an error of the cycle: the rest of the backlog goes on.
    collisions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def fail(self, message: str) -> None:
        self.errors.append(message)
        log.error("%s", message)

    def add(self, outcome: BatchOutcome) -> None:
        self.delivered += outcome.delivered
        self.collisions += outcome.collisions
        for message in outcome.errors:
            self.fail(message)

    def problems(self) -> str:
        """The errors and the collisions, for the heartbeat and the state file."""
        lines = list(self.errors)
        if self.collisions:
            lines.append(
                f"{len(self.collisions)} recording(s) kept here: storage or VIDEO holds other "
                f"content under the same name (a cloned workstation?): "
                + ", ".join(self.collisions[:NAMES_SHOWN])
            )
        return "\n".join(lines)

    def summary(self) -> str:
        state = "ok" if self.ok else "FAILED"
        return (
            f"cycle {state}: zone {self.zone_name or '?'}, {len(self.delivered)} delivered, "
            f"{self.waiting} waiting, {len(self.unparseable)} left in place, "
            f"{len(self.collisions)} kept as collisions"
        )


def cycle_run(
    *,
    config: AgentConfig,
    resolver: Resolver | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> CycleReport:
    """Run one cycle and record it (heartbeat row, local state file); never raises for a
    failure the next cycle can get past: those are in the report's ``errors``."""
    report = CycleReport(workstation=config.workstation, started_at=timezone.now())
    try:
        loaded = _zone_load(config=config, report=report, resolver=resolver)
        if loaded is not None:
            zone, private_key = loaded
            _deliver(zone=zone, private_key=private_key, config=config, report=report, sleep=sleep)
    except Exception as exc:
        # A bug or something unforeseen (a full disk, a permission): the files are where
        # they were; record it like any failure so the heartbeat shows it.
        log.exception("the cycle failed unexpectedly")
        report.errors.append(f"unexpected error: {exc!r} (traceback in the log)")
    finally:
        connections.close_all()
    heartbeat_record(report=report)
    agent_state_write(path=config.state_file, report=report)
    log.info("%s", report.summary())
    return report


def _zone_load(
    *, config: AgentConfig, report: CycleReport, resolver: Resolver | None
) -> tuple[Zone, str] | None:
    """The zone's row and its ssh private key (unsealed with OPVIDEO_ZONE_KEY), or None
    with the reason in the report."""
    found = zone_lookup(host=config.zone_host, override=config.zone_override, resolver=resolver)
    if found.missing == "undetected":
        report.fail(f"zone not found: {found.error}; retrying next cycle")
        return None
    report.zone_name = found.name
    try:
        if found.missing == "no_row":
            report.fail(
                f"zone {report.zone_name!r} has no row in CONFIG: add it in the admin (or set "
                "OPVIDEO_ZONE in db.conf); recordings stay here, retrying next cycle"
            )
            return None
        if found.missing == "database":
            raise found.error  # reported below, like the key's read failing
        zone = found.zone
        # Unseal and parse the key now, while the failure can still be named precisely.
        private_key = zone_ssh_key(zone=zone)
        ssh_keys.key_load(private_key=private_key)
    except ZoneKeyError as exc:
        report.fail(f"zone {report.zone_name}: {exc}; recordings stay here")
        return None
    except ValidationError as exc:
        report.fail(
            f"zone {report.zone_name}: the ssh key in CONFIG is not usable "
            f"({' '.join(exc.messages)}); generate or paste a new one in the admin"
        )
        return None
    except DatabaseError as exc:
        report.fail(f"database unreachable while reading zone {report.zone_name}: {exc}")
        return None
    finally:
        connections.close_all()
    report.zone_id = zone.pk
    if not zone.enabled:
        report.fail(f"zone {zone.name} is disabled in CONFIG; recordings stay here until enabled")
        return None
    _pinned, problem = pinned_host_keys(zone=zone)
    if problem:
        report.fail(problem)
        return None
    return zone, private_key


# The most finished recordings one round of a cycle holds in memory. A backlog larger than
# this (a workstation that was cut off for days) is sent in further rounds of the same cycle,
# each scanning PATH_SRC again and taking the oldest of those after the previous round's.
SCAN_ROUND = 20_000


def _deliver(
    *,
    zone: Zone,
    private_key: str,
    config: AgentConfig,
    report: CycleReport,
    sleep: Callable[[float], None],
) -> None:
    after: ScanKey | None = None
    while True:
        outcome = _deliver_round(
            zone=zone,
            private_key=private_key,
            config=config,
            report=report,
            sleep=sleep,
            after=after,
        )
        if outcome is None:
            return
        taken, settled, after = outcome
        # Another round only when this one settled everything it took and more is waiting; a
        # round that kept anything back for a reason that may recur would meet it again. A
        # collision is settled: it stays until a person looks, and must not hold back the
        # backlog behind it.
        if after is None or report.errors or settled < taken:
            return


def _deliver_round(
    *,
    zone: Zone,
    private_key: str,
    config: AgentConfig,
    report: CycleReport,
    sleep: Callable[[float], None],
    after: ScanKey | None,
) -> tuple[int, int, ScanKey | None] | None:
    """One scan and the sending of the oldest finished recordings it found after ``after``
    (the previous round's last, None in a cycle's first round): (how many were taken, how
    many of those were settled, i.e. delivered or kept as collisions, where the next round
    starts or None when nothing more is waiting), or None when the scan itself failed."""
    directory = Path(zone.path_src)
    try:
        scan = recordings_scan(
            directory=directory,
            extension=zone.file_extension,
            pattern=zone.file_name_pattern,
            workstation=config.workstation,
            settle_seconds=config.settle_seconds,
            now=time.time(),
            limit=SCAN_ROUND,
            after=after,
        )
    except OSError as exc:
        report.fail(f"cannot read PATH_SRC {directory}: {exc.strerror or exc}")
        return None
    except ValidationError as exc:
        report.fail(
            f"zone {zone.name}: FILE_NAME_PATTERN cannot be used ({' '.join(exc.messages)}); "
            "fix it in the admin"
        )
        return None
    if scan.unparseable and not report.unparseable:
        log.warning(
            "%d recording(s) in %s cannot be sent as they are and stay where they are: %s",
            len(scan.unparseable),
            directory,
            "; ".join(f"{u.name} ({u.reason})" for u in scan.unparseable[:NAMES_SHOWN]),
        )
    # The first round reads every name; a later one only those it takes, and adds what
    # became unparseable meanwhile (a file that finished since).
    known = {u.name for u in report.unparseable}
    report.unparseable += [u for u in scan.unparseable if u.name not in known]
    not_taken = scan.ready_total - len(scan.ready)
    ready = scan.ready
    if ready and config.recheck_seconds > 0:
        sleep(config.recheck_seconds)
    ready, growing = recordings_recheck(directory=directory, recordings=ready)
    report.waiting = len(scan.settling) + len(growing) + len(ready) + not_taken
    next_after = scan.last_key if not_taken > 0 else None
    if not ready:
        return 0, 0, next_after
    log.info("%d finished recording(s) to send to %s", len(ready), zone.server)
    settled = 0
    with StorageLink(zone=zone, private_key=private_key, config=config, sleep=sleep) as link:
        for start in range(0, len(ready), max(1, config.batch_files)):
            chunk = ready[start : start + config.batch_files]
            outcome = batch_deliver(
                link=link, zone=zone, workstation=config.workstation, batch=chunk
            )
            report.add(outcome)
            settled += outcome.settled
            if not outcome.go_on:
                break
    report.waiting -= settled
    return len(ready), settled, next_after


@dataclass(frozen=True)
class BatchOutcome:
    """What one batch came to, for the report."""

    delivered: list[str] = field(default_factory=list)  # sent, registered, removed here
    collisions: list[str] = field(default_factory=list)  # kept: other content under the name
    errors: list[str] = field(default_factory=list)
    go_on: bool = True  # False: the server cannot be reached or refuses us

    @property
    def settled(self) -> int:
        """Recordings this cycle can do no more about."""
        return len(self.delivered) + len(self.collisions)


def batch_deliver(
    *, link: StorageLink, zone: Zone, workstation: str, batch: Sequence[LocalRecording]
) -> BatchOutcome:
    """Send, verify, register and clean up one batch (``stages``), and say what came of it."""
    directory = Path(zone.path_src)
    errors: list[str] = []
    sending = stages.batch_send(link=link, directory=directory, batch=batch)
    for name in sending.hashed.changed:
        log.warning("%s changed while it was being read; it is sent next cycle", name)
    if sending.failure is not None and not sending.failure.partial:
        return BatchOutcome(
            errors=[f"{len(batch)} recording(s) not sent, kept here: {sending.failure.reason}"],
            go_on=False,
        )
    verified = stages.batch_verify(
        link=link, recordings=sending.hashed.ready, attempted=sending.attempted
    )
    if verified.failure is not None:
        return BatchOutcome(
            errors=[
                f"{len(batch)} recording(s) sent but not confirmed by the storage server, "
                f"kept here: {verified.failure.reason}"
            ],
            go_on=False,
        )
    collisions = [r.name for r in verified.collisions]
    for recording in verified.collisions:
        log.error(
            "%s on storage holds other content than %s (a cloned workstation with the same "
            "name?); the local file is kept, an admin has to compare them",
            recording.stored_name,
            directory / recording.name,
        )
    if verified.missing:
        why = sending.failure.reason if sending.failure else "not on storage after a transfer"
        errors.append(f"{len(verified.missing)} recording(s) did not arrive, kept here: {why}")
    # The bytes hashed are the bytes sent only if the file did not change meanwhile.
    arrived, changed = recordings_recheck(directory=directory, recordings=verified.delivered)
    for name in changed:
        log.warning("%s changed while it was being sent; it is looked at again next cycle", name)
    registered = stages.batch_register(zone=zone, workstation=workstation, recordings=arrived)
    if registered.unreachable:
        errors.append(
            f"database unreachable while registering {len(arrived)} delivered recording(s); "
            f"they stay here and are registered next cycle: {registered.error}"
        )
    elif registered.error:
        errors.append(
            f"the database refused to register {len(arrived)} delivered recording(s); they "
            f"stay here: {registered.error}"
        )
    for recording in registered.conflicts:
        collisions.append(recording.name)
        log.error(
            "VIDEO already has %s, but not as this workstation's row for these bytes (size "
            "or hash differ, or it was written by someone else); the local file is kept, an "
            "admin has to compare them",
            recording.stored_name,
        )
    removed = stages.local_copies_remove(directory=directory, recordings=registered.registered)
    return BatchOutcome(delivered=removed, collisions=collisions, errors=errors)


def heartbeat_record(*, report: CycleReport) -> None:
    """Upsert the workstation's row; a database that is down only costs this heartbeat."""
    now = timezone.now()
    row = Workstation(
        host=report.workstation,
        zone_name=report.zone_name,
        zone_id=report.zone_id,
        last_seen=now,
        last_success=now if report.ok else None,
        pending_count=report.waiting,
        unparseable_count=len(report.unparseable),
        delivered_count=len(report.delivered),
        collision_count=len(report.collisions),
        last_error=report.problems()[:4000],
        version=__version__,
    )
    update_fields = [
        "zone_name",
        "zone",
        "last_seen",
        "pending_count",
        "unparseable_count",
        "delivered_count",
        "collision_count",
        "last_error",
        "version",
    ]
    if report.ok:
        update_fields.append("last_success")
    try:
        # MySQL's ON DUPLICATE KEY UPDATE takes no conflict target; others need one.
        target = ["host"] if connection.features.supports_update_conflicts_with_target else None
        Workstation.objects.bulk_create(
            [row], update_conflicts=True, unique_fields=target, update_fields=update_fields
        )
    except DatabaseError as exc:
        log.warning("heartbeat not recorded: %s", exc)
    finally:
        connections.close_all()


def agent_state_write(*, path: Path, report: CycleReport) -> None:
    """Keep the last cycle's outcome on the workstation, for ``status`` without a database."""
    previous = agent_state_read(path=path)
    now = timezone.now().isoformat()
    state = {
        "workstation": report.workstation,
        "zone": report.zone_name,
        "last_cycle": now,
        "last_success": now if report.ok else previous.get("last_success", ""),
        "last_error": report.problems(),
        "last_error_at": now if report.problems() else previous.get("last_error_at", ""),
        "delivered": len(report.delivered),
        "waiting": report.waiting,
        "unparseable": [
            {"name": u.name, "reason": u.reason} for u in report.unparseable[:NAMES_SHOWN]
        ],
        "unparseable_count": len(report.unparseable),
        "collisions": report.collisions[:NAMES_SHOWN],
        "collision_count": len(report.collisions),
    }
    if not report.problems():
        state["last_error"] = previous.get("last_error", "")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(json.dumps(state, indent=1, ensure_ascii=False), encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        log.warning("cannot write %s: %s", path, exc.strerror)
