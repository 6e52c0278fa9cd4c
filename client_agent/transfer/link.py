"""One cycle's access to the zone's storage server: the key and known_hosts on disk for a
session, the ssh and rsync commands, sending, verifying and probing (the package's docstring
says why each works the way it does)."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from django.core.exceptions import ValidationError

from zones import host_keys, ssh_keys
from zones.models import Zone

from ..conf import AgentConfig
from ..logs import RSYNC_LOGGER
from .runs import (
    PARTIAL_CODES,
    SEND_PREFIX,
    Failure,
    RsyncRun,
    Sent,
    Verification,
    failure_classify,
)

log = logging.getLogger(RSYNC_LOGGER)

# A cycle's key directory, and the one of a `check`, which runs beside a cycle without the
# lock: a cycle removes leftovers of killed cycles at once, a check's only once stale.
KEY_DIR_PREFIX = "key-"
CHECK_KEY_DIR_PREFIX = "check-"
STALE_CHECK_SECONDS = 3600
_EXISTS = re.compile(rb"^(?P<name>.+) exists \((?P<state>[a-z ]+)\)$")
# What rsync's daemon says first, and what the upload module's check says when it refuses.
_DAEMON_GREETING = b"@RSYNCD:"
_UPLOAD_REFUSED = "opvideo upload refused"


class StorageLink:
    """One cycle's access to the zone's storage server: the key on disk, ssh, rsync.

    Use as a context manager; the key is removed on exit whatever happened.
    """

    def __init__(
        self,
        *,
        zone: Zone,
        private_key: str,
        config: AgentConfig,
        sleep: Callable[[float], None] = time.sleep,
        for_check: bool = False,
    ) -> None:
        self.zone = zone
        # The zone's key as the client unsealed it (selectors.zone_ssh_key): the row it
        # reads carries no key column.
        self.private_key = private_key
        self.config = config
        self.sleep = sleep
        # A cycle holds the instance lock, so no other cycle's key can be in the directory.
        self.for_check = for_check
        self._key_dir: Path | None = None

    # --- key lifetime -----------------------------------------------------------------------

    def __enter__(self) -> StorageLink:
        # Parse before writing: the one format ssh reads, whatever an old row holds (CRLF, no
        # final newline, PEM), and a refusal that says what is wrong with the key.
        key_text = ssh_keys.key_load(private_key=self.private_key).private_openssh
        if not self.for_check:
            key_dirs_clean(key_dir=self.config.key_dir)
        self.config.key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.config.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        prefix = CHECK_KEY_DIR_PREFIX if self.for_check else KEY_DIR_PREFIX
        self._key_dir = Path(tempfile.mkdtemp(prefix=prefix, dir=self.config.key_dir))
        try:
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as key_file:
                key_file.write(key_text)
            self._known_hosts_write()
        except BaseException:
            shutil.rmtree(self._key_dir, ignore_errors=True)
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        if self._key_dir is not None:
            shutil.rmtree(self._key_dir, ignore_errors=True)
            self._key_dir = None

    @property
    def key_path(self) -> Path:
        return self._session_dir() / "id"

    @property
    def known_hosts(self) -> Path:
        return self._session_dir() / "known_hosts"

    def _known_hosts_write(self) -> None:
        """The session's known_hosts, from CONFIG alone: nothing learnt on an earlier
        connection, nothing a reinstalled or re-imaged workstation could lose. A zone with no
        pinned key gets no file and no connection (HostKeysNotPinned)."""
        keys = host_keys.zone_host_keys(zone=self.zone)
        if not keys:
            raise HostKeysNotPinned(host_keys_missing_message(zone=self.zone))
        fd = os.open(self.known_hosts, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(host_keys.known_hosts_text(keys=keys))

    def _session_dir(self) -> Path:
        if self._key_dir is None:
            raise RuntimeError("StorageLink used outside its with-block")
        return self._key_dir

    # --- commands ---------------------------------------------------------------------------

    def ssh_command(self) -> list[str]:
        """ssh that asks nothing, talks only to a server showing a key pinned in CONFIG, and
        gives up.

        ``-F none``: a workstation's own ssh configuration must not change how recordings
        travel. The server is known under ``HostKeyAlias`` in the session's known_hosts
        (written from CONFIG.HOST_KEYS), so the pinned keys apply whatever SERVER and
        SSH_PORT say; no key is learnt or updated, none is looked up in DNS or elsewhere.
        Keepalives end a dead connection in about a minute instead of never.
        """
        return [
            "ssh",
            "-F",
            "none",
            "-i",
            str(self.key_path),
            "-p",
            str(self.zone.ssh_port),
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "IdentityAgent=none",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            f"HostKeyAlias={host_keys.HOST_KEY_ALIAS}",
            "-o",
            "CheckHostIP=no",
            "-o",
            "UpdateHostKeys=no",
            "-o",
            "VerifyHostKeyDNS=no",
            "-o",
            f"ConnectTimeout={self.config.connect_timeout}",
            "-o",
            "ServerAliveInterval=15",
            "-o",
            "ServerAliveCountMax=4",
            "-o",
            "LogLevel=ERROR",
        ]

    def rsync_command(
        self, *, list_file: Path, dry_run: bool, by_content: bool = False
    ) -> list[str]:
        # Modes are not sent: the server's module gives every file and directory its own.
        command = [
            "rsync",
            # Files keep their modification time: "delivered" is the same size and time.
            "--times",
            # Directories do not; the server refuses a request that would set theirs.
            "--omit-dir-times",
            # Names as their bytes, not \#ooo escapes (the module docstring).
            "--8-bit-output",
            # Storage file systems may keep coarser times than the workstation's.
            "--modify-window=1",
            # Never replace a stored recording; the server refuses a request without it.
            "--ignore-existing",
            f"--files-from={list_file}",
            "--from0",
            f"--bwlimit={self.zone.speed_kbps}",
            f"--timeout={self.config.io_timeout}",
            f"--out-format={SEND_PREFIX.decode()}%n",
            "-e",
            shlex.join(self.ssh_command()),
        ]
        if dry_run:
            command += ["--dry-run", "--info=skip2"]
        if by_content:
            # Existing files compared by size and whole-file checksum, both sides reading
            # them, instead of by size and time.
            command.append("--checksum")
        return [*command, f"{self.zone.path_src.rstrip('/')}/", self._remote()]

    def _remote(self) -> str:
        # rsync's daemon over ssh (the -e above): the module is rooted at PATH_DST.
        return (
            f"{self.zone.ssh_user}@{self.zone.server}::{ssh_keys.UPLOAD_MODULE}/"
            f"{self.config.workstation}/"
        )

    # --- operations -------------------------------------------------------------------------

    def send(self, *, names: Sequence[str], meanwhile: Callable[[], object] | None = None) -> Sent:
        """Send ``names`` (in PATH_SRC); retry passing failures with growing pauses.

        ``meanwhile`` runs while the first attempt's rsync does (the client hashes the batch
        it is sending there: the hashing then costs no time of its own). Whatever rsync said,
        the caller asks ``verify`` what actually arrived.
        """
        command = self.rsync_command(list_file=self._list_file(names), dry_run=False)
        runs, failure, result = self._run_with_retries(command, what="send", meanwhile=meanwhile)
        wanted = {os.fsencode(name): name for name in names}
        attempted = set()
        for run in runs:
            for line in run.lines():
                if line.startswith(SEND_PREFIX):
                    name = wanted.get(line[len(SEND_PREFIX) :])
                    if name is not None:
                        attempted.add(name)
        return Sent(attempted=frozenset(attempted), failure=failure, meanwhile=result)

    def _run_with_retries(
        self, command: list[str], *, what: str, meanwhile: Callable[[], object] | None = None
    ) -> tuple[list[RsyncRun], Failure | None, object]:
        """Every attempt's run, the last failure (None once one succeeded), and what
        ``meanwhile`` returned (run once, alongside the first attempt)."""
        failure = None
        runs = []
        result = None
        for attempt in range(max(1, self.config.retry_attempts)):
            if attempt:
                pause = self.config.retry_delay * 2 ** (attempt - 1) * random.uniform(0.75, 1.25)  # noqa: S311
                log.info("%s: retrying in %.0f s (attempt %d)", what, pause, attempt + 1)
                self.sleep(pause)
            run, result = (
                self._run(command, what=what, meanwhile=meanwhile)
                if attempt == 0
                else (self._run(command, what=what)[0], result)
            )
            runs.append(run)
            if run.ok:
                return runs, None, result
            failure = failure_classify(run=run, zone=self.zone)
            log.error("%s: %s", what, failure.reason)
            if not failure.retryable:
                break
        return runs, failure, result

    def verify(self, *, names: Sequence[str], by_content: bool = False) -> Verification:
        """Ask the server, without sending anything, which of ``names`` it holds intact:
        the same size and time, or with ``by_content`` the same size and checksum."""
        if not names:
            return Verification()
        command = self.rsync_command(
            list_file=self._list_file(names), dry_run=True, by_content=by_content
        )
        runs, _failure, _ = self._run_with_retries(command, what="verify")
        run = runs[-1]
        wanted = {os.fsencode(name): name for name in names}
        result = Verification()
        states: dict[str, str] = {}
        for line in run.lines():
            if line.startswith(SEND_PREFIX):
                name = wanted.get(line[len(SEND_PREFIX) :])
                if name is not None:
                    states[name] = "missing"
                continue
            match = _EXISTS.match(line)
            if match and match["name"] in wanted:
                states[wanted[match["name"]]] = match["state"].decode()
        if not run.ok and run.returncode not in PARTIAL_CODES:
            result.failure = failure_classify(run=run, zone=self.zone)
            result.missing = list(names)
            return result
        for name in names:
            state = states.get(name, "missing")
            if state == "uptodate":
                result.delivered.append(name)
            elif state == "missing":
                result.missing.append(name)
            else:
                result.different.append(name)
        return result

    def probe(self) -> tuple[bool, str]:
        """For ``check``: does the server accept the key, and is the key confined to the
        upload module? Logged in, the forced command answers any command with the rsync
        daemon's greeting; the module's own check then refuses a download."""
        target = f"{self.zone.ssh_user}@{self.zone.server}"
        login, _ = self._run([*self.ssh_command(), target, "true"], what="check")
        if not login.ok and not any(line.startswith(_DAEMON_GREETING) for line in login.lines()):
            failure = failure_classify(run=login, zone=self.zone)
            return False, failure.reason
        with tempfile.TemporaryDirectory() as scratch:
            read, _ = self._run(
                [
                    "rsync",
                    "-e",
                    shlex.join(self.ssh_command()),
                    f"{target}::{ssh_keys.UPLOAD_MODULE}/opvideo-check-read",
                    scratch,
                ],
                what="check",
            )
        if _UPLOAD_REFUSED in read.output:
            return True, f"{target}:{self.zone.ssh_port} accepts the key, confined to uploads"
        return True, (
            f"{target}:{self.zone.ssh_port} accepts the key, but it does not look confined to "
            "OPVideo's upload module: install the line shown on the zone's admin page with "
            "docker/storage/bootstrap.sh"
        )

    # --- internals --------------------------------------------------------------------------

    def _list_file(self, names: Sequence[str]) -> Path:
        fd, path = tempfile.mkstemp(prefix="files-", dir=self._session_dir())
        with os.fdopen(fd, "wb") as handle:
            handle.write(b"".join(os.fsencode(name) + b"\0" for name in names))
        return Path(path)

    def _run(
        self, command: list[str], *, what: str, meanwhile: Callable[[], object] | None = None
    ) -> tuple[RsyncRun, object]:
        """Run ``command`` to its end and, while it runs, ``meanwhile`` (in this thread: the
        output goes to a file, so the child never waits on a full pipe)."""
        log.info("%s: %s", what, shlex.join(command))
        with tempfile.TemporaryFile(dir=self._session_dir()) as output_file:
            try:
                process = self._spawn(command, output=output_file)
            except OSError as exc:  # rsync or ssh not installed, or not executable
                log.error("%s: cannot run %s: %s", what, command[0], exc.strerror or exc)
                result = meanwhile() if meanwhile else None
                return RsyncRun(returncode=127, output=f"cannot run {command[0]}: {exc}"), result
            try:
                result = meanwhile() if meanwhile else None
                returncode = process.wait()
            except BaseException:
                # Stopped (SIGTERM) or a failure of our own: rsync goes too, and the server
                # discards its partial file.
                process.kill()
                process.wait()
                raise
            output_file.seek(0)
            raw = output_file.read()
        output = raw.decode("utf-8", "backslashreplace")
        for line in output.splitlines():
            if line.strip():
                log.info("%s: %s", what, line)
        log.info("%s: exit code %d", what, returncode)
        return RsyncRun(returncode=returncode, output=output, raw=raw), result

    @staticmethod
    def _spawn(command: list[str], *, output) -> subprocess.Popen:
        return subprocess.Popen(  # noqa: S603 - a fixed program with our own arguments
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=_child_environment(),
            # The client runs no threads (work alongside rsync runs in this one), so
            # preexec_fn is safe here.
            preexec_fn=_die_with_parent,
        )


class HostKeysNotPinned(Exception):
    """The zone has no storage server host key in CONFIG: nothing may be sent."""


def pinned_host_keys(*, zone: Zone) -> tuple[list[host_keys.HostKey], str]:
    """The zone's pinned storage host keys and "", or none and what the cycle, the heartbeat
    and ``check`` say instead (no connection is made then)."""
    try:
        pinned = host_keys.zone_host_keys(zone=zone)
    except ValidationError as exc:
        return [], (
            f"zone {zone.name}: the storage server host keys in CONFIG are not usable "
            f"({' '.join(exc.messages)}); nothing is sent: fetch or paste them again on the "
            "zone's admin page"
        )
    if not pinned:
        return [], host_keys_missing_message(zone=zone)
    return pinned, ""


def host_keys_missing_message(*, zone: Zone) -> str:
    """What the cycle, the heartbeat and ``check`` say about a zone with no pinned host key."""
    return (
        f"zone {zone.name}: no host key of the storage server {zone.server} is pinned in "
        "CONFIG, so nothing is sent (the recordings stay here). An admin fetches the "
        "server's host keys on the zone's admin page and confirms their fingerprints against "
        "`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the storage server (or runs "
        f"manage.py zone_host_keys --zone {zone.name} --fetch)"
    )


def key_dirs_clean(*, key_dir: Path) -> None:
    """Remove key directories a killed client left behind (the caller holds the lock)."""
    now = time.time()
    with contextlib.suppress(FileNotFoundError):
        for entry in key_dir.iterdir():
            if not entry.is_dir() or entry.is_symlink():
                continue
            stale_check = (
                entry.name.startswith(CHECK_KEY_DIR_PREFIX)
                and now - entry.stat().st_mtime > STALE_CHECK_SECONDS
            )
            if entry.name.startswith(KEY_DIR_PREFIX) or stale_check:
                shutil.rmtree(entry, ignore_errors=True)


def _child_environment() -> dict[str, str]:
    """What ssh and rsync get: enough to run, English messages (they are parsed), no secrets."""
    env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "LC_ALL": "C"}
    if "HOME" in os.environ:
        env["HOME"] = os.environ["HOME"]
    return env


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the client dies, so no rsync outlives a killed client."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
