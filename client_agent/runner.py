"""Running the client: one instance at a time, a cycle per interval at a per-host offset.

Thousands of workstations are installed and rebooted together; if each ran its cycle on
the hour, or right after boot, the database and the storage servers would see them all in
the same minute. Each workstation instead runs at a fixed offset within the interval,
derived from its name: stable across restarts, spread evenly over a site. A failed cycle is
retried sooner than the next slot, with the pause doubling up to the interval, so a short
outage costs minutes and a long one does not turn into a reconnect storm.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from django.db import connections

from .conf import AgentConfig
from .logs import MAIN_LOGGER
from .services import CycleReport

log = logging.getLogger(MAIN_LOGGER)


class AlreadyRunning(Exception):
    """Another client holds the lock; the message says which."""


class Stopped(BaseException):
    """SIGTERM/SIGINT: unwind through every ``finally`` (the key is removed) and exit.

    A BaseException so that no ``except Exception`` on the way swallows it.
    """


@contextlib.contextmanager
def instance_lock(*, path: Path, mode: str) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` for the life of the block.

    ``flock`` dies with its process, so a killed client never leaves a stale lock; the file
    itself stays (removing it would let a third process lock a different inode).
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = _lock_holder(fd)
            raise AlreadyRunning(
                f"another opvideo client is already running ({holder}, lock {path}); this one "
                "exits. Use `service opvideo stop` first to run a cycle by hand."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, {mode}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def _lock_holder(fd: int) -> str:
    """What the holder wrote into the lock file; it writes just after locking, so a look in
    that instant finds the file empty: look again for a moment before giving up."""
    for _attempt in range(20):
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
        if text:
            return text
        time.sleep(0.05)
    return "pid unknown"


def cycle_offset(*, workstation: str, interval: float) -> float:
    """Seconds into each interval at which this workstation runs: stable, evenly spread."""
    digest = hashlib.sha256(workstation.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * interval


def next_slot(*, now: float, interval: float, offset: float) -> float:
    """The first time after ``now`` that is ``offset`` seconds into an interval."""
    return now - ((now - offset) % interval) + interval


def failure_pause(*, failures: int, first: float, interval: float) -> float:
    """Pause before retrying after ``failures`` failed cycles in a row (jittered)."""
    pause = min(interval, first * 2 ** max(0, failures - 1))
    return pause * random.uniform(0.8, 1.2)  # noqa: S311 - spreading load, not a secret


def loop_run(
    *,
    config: AgentConfig,
    cycle: Callable[[], CycleReport],
    stop: threading.Event,
    clock: Callable[[], float] = time.time,
) -> None:
    """Run ``cycle`` at this workstation's slot until ``stop`` is set. Never raises for a
    failing cycle: a cycle that crashes is logged with its traceback and retried."""
    offset = cycle_offset(workstation=config.workstation, interval=config.interval)
    log.info(
        "started: workstation %s, a cycle every %.0f s at %.0f s into each interval",
        config.workstation,
        config.interval,
        offset,
    )
    failures = 0
    wake = next_slot(now=clock(), interval=config.interval, offset=offset)
    while not stop.wait(timeout=max(0.0, wake - clock())):
        try:
            report = cycle()
            ok = report.ok
        except Exception:
            log.exception("the cycle crashed; retrying")
            ok = False
        finally:
            connections.close_all()
        failures = 0 if ok else failures + 1
        wake = next_slot(now=clock(), interval=config.interval, offset=offset)
        if failures:
            retry = clock() + failure_pause(
                failures=failures, first=config.failure_retry, interval=config.interval
            )
            wake = min(wake, retry)
    log.info("stopped")


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM (systemd, ``service opvideo stop``) and SIGINT end the process promptly: a
    running rsync is killed (the server discards its partial file), the key removed."""

    def handler(signum, _frame):
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()
        raise Stopped

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    except Stopped:
        pass
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
