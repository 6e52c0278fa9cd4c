"""One cycle of the workstation client: find the zone, pick finished recordings, send them,
register what arrived, and only then remove the local copies.

The workstation's disk holds the only copy of a recording until it is on storage and in
VIDEO, so every step is arranged so that a failure anywhere (DNS, database, ssh, the
storage server, the client killed) leaves the recording where it is, to be picked up by the
next cycle, and so that repeating a step is harmless:

- a file is sent only once it is finished (settled and not growing);
- what arrived is asked of the storage server, not inferred (``transfer.StorageLink.verify``);
- rows are inserted ignoring existing ones and read back (``storage.registration``);
- a local copy is removed only if its row is confirmed and the file is still exactly the one
  that was sent (same size and modification time).

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

from storage.registration import NewRecording, video_register_batch
from zones import ssh_keys
from zones.detection import Resolver, ZoneNotDetected, zone_detect
from zones.fields import FieldDecryptionError
from zones.models import Zone

from . import __version__
from .conf import AgentConfig
from .logs import MAIN_LOGGER
from .models import Workstation
from .selectors import (
    LocalRecording,
    ScanKey,
    Unparseable,
    agent_state_read,
    file_look,
    recordings_recheck,
    recordings_scan,
    zone_for_client,
)
from .transfer import StorageLink

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
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def fail(self, message: str) -> None:
        self.errors.append(message)
        log.error("%s", message)

    def summary(self) -> str:
        state = "ok" if self.ok else "FAILED"
        return (
            f"cycle {state}: zone {self.zone_name or '?'}, {len(self.delivered)} delivered, "
            f"{self.waiting} waiting, {len(self.unparseable)} left in place"
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
        zone = _zone_load(config=config, report=report, resolver=resolver)
        if zone is not None:
            _deliver(zone=zone, config=config, report=report, sleep=sleep)
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
) -> Zone | None:
    try:
        report.zone_name = zone_detect(
            host=config.zone_host, override=config.zone_override, resolver=resolver
        )
    except ZoneNotDetected as exc:
        report.fail(f"zone not found: {exc}; retrying next cycle")
        return None
    try:
        zone = zone_for_client(name=report.zone_name)
        # Decrypt and parse the key now, while the failure can still be named precisely.
        ssh_keys.key_load(private_key=zone.ssh_private_key)
    except ValidationError as exc:
        report.fail(
            f"zone {report.zone_name}: the ssh key in CONFIG is not usable "
            f"({' '.join(exc.messages)}); generate or paste a new one in the admin"
        )
        return None
    except Zone.DoesNotExist:
        report.fail(
            f"zone {report.zone_name!r} has no row in CONFIG: add it in the admin (or set "
            "OPVIDEO_ZONE in db.conf); recordings stay here, retrying next cycle"
        )
        return None
    except FieldDecryptionError as exc:
        report.fail(f"zone {report.zone_name}: {exc} (check FIELD_ENCRYPTION_KEYS in db.conf)")
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
    return zone


# The most finished recordings one round of a cycle holds in memory. A backlog larger than
# this (a workstation that was cut off for days) is sent in further rounds of the same cycle,
# each scanning PATH_SRC again and taking the oldest of those after the previous round's.
SCAN_ROUND = 20_000


def _deliver(
    *, zone: Zone, config: AgentConfig, report: CycleReport, sleep: Callable[[float], None]
) -> None:
    after: ScanKey | None = None
    while True:
        delivered_before = len(report.delivered)
        outcome = _deliver_round(zone=zone, config=config, report=report, sleep=sleep, after=after)
        if outcome is None:
            return
        taken, after = outcome
        # Another round only when this one sent everything it took and more is waiting; a
        # round that kept anything back would meet the same trouble again.
        if after is None or report.errors or len(report.delivered) - delivered_before < taken:
            return


def _deliver_round(
    *,
    zone: Zone,
    config: AgentConfig,
    report: CycleReport,
    sleep: Callable[[float], None],
    after: ScanKey | None,
) -> tuple[int, ScanKey | None] | None:
    """One scan and the sending of the oldest finished recordings it found after ``after``
    (the previous round's last, None in a cycle's first round): (how many were taken, where
    the next round starts or None when nothing more is waiting), or None when the scan
    itself failed."""
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
        return 0, next_after
    log.info("%d finished recording(s) to send to %s", len(ready), zone.server)
    delivered_before = len(report.delivered)
    with StorageLink(zone=zone, config=config, sleep=sleep) as link:
        for start in range(0, len(ready), max(1, config.batch_files)):
            chunk = ready[start : start + config.batch_files]
            go_on = _deliver_batch(link=link, zone=zone, config=config, batch=chunk, report=report)
            if not go_on:
                break
    report.waiting -= len(report.delivered) - delivered_before
    return len(ready), next_after


def _deliver_batch(
    *,
    link: StorageLink,
    zone: Zone,
    config: AgentConfig,
    batch: Sequence[LocalRecording],
    report: CycleReport,
) -> bool:
    """Send, verify, register, clean up one batch. False: the storage server cannot be
    reached or refuses us, so later batches would fail the same way."""
    directory = Path(zone.path_src)
    names = [recording.name for recording in batch]
    failure = link.send(names=names)
    if failure is not None and not failure.partial:
        report.fail(f"{len(names)} recording(s) not sent, kept here: {failure.reason}")
        return False
    verification = link.verify(names=names)
    if verification.failure is not None:
        report.fail(
            f"{len(names)} recording(s) sent but not confirmed by the storage server, kept "
            f"here: {verification.failure.reason}"
        )
        return False
    for name in verification.different:
        report.fail(
            f"{config.workstation}/{name} on storage is a different file than {directory / name} "
            "(size or time differ); the local file is kept, an admin has to compare them"
        )
    if verification.missing:
        why = failure.reason if failure else "not on storage after a successful transfer"
        report.fail(f"{len(verification.missing)} recording(s) did not arrive, kept here: {why}")
    arrived_names = set(verification.delivered)
    arrived, changed = recordings_recheck(
        directory=directory, recordings=[r for r in batch if r.name in arrived_names]
    )
    for name in changed:
        log.warning("%s changed while it was being sent; it is sent again next cycle", name)
    if not arrived:
        return True
    try:
        registration = video_register_batch(
            zone=zone,
            workstation=config.workstation,
            files=[
                NewRecording(
                    file_name=r.stored_name,
                    session_id=r.session_id,
                    project_id=r.project_id,
                    recording_date=r.recording_date,
                    size=r.size,
                )
                for r in arrived
            ],
        )
    except DatabaseError as exc:
        report.fail(
            f"database unreachable while registering {len(arrived)} delivered recording(s); "
            f"they stay here and are registered next cycle: {exc}"
        )
        return True
    finally:
        connections.close_all()
    for stored_name in registration.conflicts:
        report.fail(
            f"VIDEO already has {stored_name} with another size; the local file is kept, an "
            "admin has to compare them"
        )
    registered = set(registration.registered)
    removed = local_copies_remove(
        directory=directory, recordings=[r for r in arrived if r.stored_name in registered]
    )
    report.delivered += removed
    return True


def local_copies_remove(*, directory: Path, recordings: Sequence[LocalRecording]) -> list[str]:
    """Delete local copies that are still exactly what was sent; return the deleted names.

    A file whose size or modification time changed since it was looked at is not the file
    that was sent and registered, so it stays (and the next cycle reports the difference).
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
        last_error="\n".join(report.errors)[:4000],
        version=__version__,
    )
    update_fields = [
        "zone_name",
        "zone",
        "last_seen",
        "pending_count",
        "unparseable_count",
        "delivered_count",
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
        "last_error": "\n".join(report.errors),
        "last_error_at": now if report.errors else previous.get("last_error_at", ""),
        "delivered": len(report.delivered),
        "waiting": report.waiting,
        "unparseable": [
            {"name": u.name, "reason": u.reason} for u in report.unparseable[:NAMES_SHOWN]
        ],
        "unparseable_count": len(report.unparseable),
    }
    if not report.errors:
        state["last_error"] = previous.get("last_error", "")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(json.dumps(state, indent=1, ensure_ascii=False), encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        log.warning("cannot write %s: %s", path, exc.strerror)
