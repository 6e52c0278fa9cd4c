"""What a purge run did: each row's outcome and the run's counts (storage.retention)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from .paths import Removal

logger = logging.getLogger("storage.retention")

# How many problems a PurgeRun keeps word for word; the counts are always complete.
PROBLEMS_KEPT = 200


@dataclass(frozen=True)
class PurgeItem:
    """What happened to one recording, for a caller that lists them (``--dry-run``)."""

    video_id: int
    file_name: str
    outcome: Removal
    size: int = 0
    reason: str = ""


@dataclass
class PurgeSummary:
    zone: str
    today: date
    dry_run: bool = False
    deleted: int = 0
    missing: int = 0
    refused: int = 0
    failed: int = 0
    # Not the file the row describes (storage.content): kept, the row untouched.
    differs: int = 0
    bytes_freed: int = 0
    # Expired when the run listed them, no longer when their batch was locked: a legal
    # hold placed or a retention lengthened during the run, or another run was quicker.
    skipped: int = 0
    problems: list[str] = field(default_factory=list)
    run_id: int | None = None

    @property
    def problem_count(self) -> int:
        return self.refused + self.failed + self.differs

    def line(self) -> str:
        """The summary in one line, as the command prints it and the log keeps it."""
        verb, freed = ("would delete", "would free") if self.dry_run else ("deleted", "freed")
        return (
            f"zone {self.zone}, expired before {self.today.isoformat()}: "
            f"{verb} {self.deleted}, missing {self.missing}, refused {self.refused}, "
            f"failed {self.failed}, differs {self.differs}, skipped {self.skipped}, "
            f"{freed} {self.bytes_freed} bytes"
        )

    def as_dict(self) -> dict:
        return {
            "zone": self.zone,
            "today": self.today.isoformat(),
            "dry_run": self.dry_run,
            "deleted": self.deleted,
            "missing": self.missing,
            "refused": self.refused,
            "failed": self.failed,
            "differs": self.differs,
            "skipped": self.skipped,
            "bytes_freed": self.bytes_freed,
            "run_id": self.run_id,
        }

    def add(self, item: PurgeItem) -> None:
        """Count one row's outcome; a refusal or failure is logged and kept word for word."""
        if item.outcome in (Removal.DELETED, Removal.WOULD_DELETE):
            self.deleted += 1
            self.bytes_freed += item.size
        elif item.outcome == Removal.MISSING:
            self.missing += 1
        else:
            if item.outcome == Removal.REFUSED:
                self.refused += 1
            elif item.outcome == Removal.DIFFERS:
                self.differs += 1
            else:
                self.failed += 1
            line = f"{item.outcome.value}: id={item.video_id} {item.file_name!r}: {item.reason}"
            logger.warning("purge of zone %s: %s", self.zone, line)
            if len(self.problems) < PROBLEMS_KEPT:
                self.problems.append(line)

    def note(self, line: str) -> None:
        """A problem that changes no count (a recording deleted, its previews not): logged
        and kept word for word like the others."""
        logger.warning("purge of zone %s: %s", self.zone, line)
        if len(self.problems) < PROBLEMS_KEPT:
            self.problems.append(line)
