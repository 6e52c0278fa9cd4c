"""What an rsync/ssh run said: the run itself, why it failed (in words an admin can act on)
and whether another attempt can cure it, and what a send and a verification found."""

from __future__ import annotations

from dataclasses import dataclass, field

from zones.models import Zone

# rsync prints this before each name it starts sending (--out-format).
SEND_PREFIX = b"opvideo-send: "

# rsync exit codes (rsync(1), EXIT VALUES) that a later attempt can cure.
_RETRYABLE_CODES = {5, 10, 12, 30, 35, 255}
PARTIAL_CODES = {23, 24}
# ssh/rsync messages that no retry will cure, and what an admin has to do about each.
_FATAL_MESSAGES = (
    (
        "Permission denied (publickey",
        "the storage server refused the zone's key: install the authorized_keys line shown "
        "on the zone's admin page for {user} on {server}",
    ),
    (
        "Host key verification failed",
        "{server}:{port} did not show the host key pinned for zone {zone} in CONFIG, so "
        "nothing was sent and nothing deleted here. If the storage server was really "
        "reinstalled, an admin fetches its new key and confirms the fingerprint on the zone's "
        "admin page (or: manage.py zone_host_keys --zone {zone} --fetch); if it was not, "
        "something else answers at that address: do not accept its key, find out what it is",
    ),
    (
        "opvideo upload refused",
        "the storage server's upload module refused the request (is the key's line the one "
        "shown on the zone's admin page, installed with docker/storage/bootstrap.sh?)",
    ),
    (
        "@ERROR:",
        "the storage server's rsync daemon refused the request (install the zone's line with "
        "docker/storage/bootstrap.sh, which also writes the upload module)",
    ),
    (
        "is configured to refuse",
        "the storage server's upload module refused an option (install the zone's line with "
        "docker/storage/bootstrap.sh, which also writes the upload module)",
    ),
    (
        "rrsync error",
        "the storage server still has the zone's old rrsync line: install the current line "
        "with docker/storage/bootstrap.sh",
    ),
    ("No space left on device", "the storage server is out of disk space"),
)


@dataclass(frozen=True)
class RsyncRun:
    returncode: int
    output: str  # stdout and stderr together, in order, for people (undecodable bytes escaped)
    raw: bytes = b""  # the same, byte for byte: names are matched here

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def lines(self) -> list[bytes]:
        return (self.raw or self.output.encode()).splitlines()


@dataclass(frozen=True)
class Failure:
    reason: str
    retryable: bool
    # rsync ran and sent what it could (exit 23/24): ask the server what arrived.
    partial: bool = False


@dataclass(frozen=True)
class Sent:
    """What a send did: the names rsync started sending in any attempt (it logs a name before
    its data, so one of them may not have arrived: ``verify`` says), the last failure, and
    what the work done meanwhile returned."""

    attempted: frozenset[str]
    failure: Failure | None
    meanwhile: object = None


@dataclass
class Verification:
    """What the storage server holds of a set of names, per name."""

    delivered: list[str] = field(default_factory=list)  # there, same size and mtime
    different: list[str] = field(default_factory=list)  # there, but another file
    missing: list[str] = field(default_factory=list)  # not there (or not reported)
    failure: Failure | None = None  # the server could not be asked: nothing is known


def failure_classify(*, run: RsyncRun, zone: Zone) -> Failure:
    """Why an rsync/ssh run failed, in words an admin can act on, and whether to retry."""
    context = {
        "user": zone.ssh_user,
        "server": zone.server,
        "port": zone.ssh_port,
        "zone": zone.name,
    }
    if run.returncode in PARTIAL_CODES:
        return Failure(
            reason=f"some files were not sent ({_detail(run)})", retryable=False, partial=True
        )
    for needle, advice in _FATAL_MESSAGES:
        if needle in run.output:
            return Failure(reason=f"{advice.format(**context)} ({_detail(run)})", retryable=False)
    retryable = run.returncode in _RETRYABLE_CODES
    where = f"{zone.ssh_user}@{zone.server}:{zone.ssh_port}"
    return Failure(
        reason=f"rsync to {where} failed with exit code {run.returncode} ({_detail(run)})",
        retryable=retryable,
    )


def _detail(run: RsyncRun) -> str:
    """The line of what ssh/rsync said that names the cause: the first error-like one (ssh's
    own line comes before rsync's "connection unexpectedly closed" and its summary)."""
    lines = [line.strip() for line in run.output.splitlines() if line.strip()]
    specific = [
        line
        for line in lines
        if not line.startswith(SEND_PREFIX.decode()) and not line.startswith("rsync error:")
    ]
    errorish = [line for line in specific if _looks_like_error(line)]
    pick = (errorish or specific or lines or ["no output"])[0]
    return pick[:300]


def _looks_like_error(line: str) -> bool:
    lowered = line.lower()
    return any(
        word in lowered
        for word in ("error", "denied", "refused", "failed", "timed out", "closed", "no route")
    )
