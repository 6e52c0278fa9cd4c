"""Retention purge: the peak resident memory of ``manage.py purge_expired`` purging
100,000 expired recordings (real rows in MariaDB, real files on disk), against its anchor
measured in the same run: the same command purging 10,000. The purge walks the rows in
id-keyed batches, so its memory must not grow with the number of rows. And its time against
``find PATH -type f -delete`` on an identical tree (the floor: deleting without deciding or
recording anything).

Targets: memory ratio <= 1.1; purge time within 2x of find.

What growth there is between the two is printed per row too. Expect a few tens of bytes: not
kept per row, but the interpreter's table of interned strings (pathlib interns every path
segment, so every file name passes through it), which resizes by a couple of megabytes once
enough distinct names have gone by and then stays there (300,000 rows peak where 100,000 do).

The expired rows carry their file's size and SHA-256, as the client registers them, so the
purge compares every file with its row (storage.content). By default each row is also marked
verified by the integrity check after the file last changed, the steady state in which the
purge need not read the file; ``--unverified`` leaves that out, so every file is read and
hashed before it is deleted (the first purge after files arrived with no check in between).

    python bench/purge_memory.py [--rows 100000] [--anchor 10000] [--unverified]
        [--database opvideo_bench_purge]

A purge consumes its data, so the database (``opvideo_bench_purge`` unless ``--database``
names another, e.g. to run beside another checkout's benchmark) is filled afresh every run
and dropped afterwards; the files go under /tmp and are removed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, REPO, bench_env, connect, database_create, manage

DATABASE = "opvideo_bench_purge"
TARGET_RATIO = 1.1


CONTENT = b"v"


def fill(*, rows: int, base: Path, verified: bool):
    """A zone whose PATH_DST holds ``rows`` expired recordings (files and rows)."""
    from django.utils import timezone

    from storage.content import VERIFIED_CTIME_MARGIN_NS
    from storage.models import HashOrigin, Video
    from storage.retention import retention_today
    from zones.services import zone_create

    root = base / f"store-{rows}"
    root.mkdir()
    zone = zone_create(
        name=f"bench{rows}",
        server="storage.bench.example.ru",
        ssh_user="opvideo",
        speed_kbps=3000,
        path_src="/home/oper/.videos",
        path_dst=str(root),
        file_extension="mp4",
        retention_days=30,
        enabled=False,  # no beat entry: the command runs the purge
    )
    recorded = retention_today() - timedelta(days=100)
    content_hash = hashlib.sha256(CONTENT).hexdigest()
    batch = []
    for n in range(rows):
        name = f"op{n % 100:03}/2026-01-01_10-00-00_node_0_domain_0_nauss_0_{n}.mp4"
        path = root / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(CONTENT)
        batch.append(
            Video(
                zone=zone,
                session_id=f"node_0_domain_0_nauss_0_{1629126106 + n}_{n}",
                project_id="corebo00000000000ng9hgl5vhtinhmo",
                file_name=name,
                recording_date=recorded,
                size=len(CONTENT),
                content_hash=content_hash,
                hash_origin=HashOrigin.WORKSTATION,
            )
        )
        if len(batch) == 5000:
            Video.objects.bulk_create(batch)
            batch = []
    Video.objects.bulk_create(batch)
    if verified:
        # As the integrity check leaves a file it found equal: checked after the file's last
        # change by more than the purge's margin for clocks. Set once every file is written
        # (a time taken before would be older than the last files' ctime, and those would be
        # read: that is --unverified's measurement, not this one's).
        margin = timedelta(seconds=VERIFIED_CTIME_MARGIN_NS / 1e9 + 1)
        Video.objects.filter(zone=zone).update(
            integrity_checked_at=timezone.now() + margin, integrity_ok=True
        )
    return zone


def find_delete_seconds(*, rows: int, base: Path) -> float:
    """``find -type f -delete`` over a tree laid out exactly as ``fill`` lays out its files."""
    root = base / f"find-{rows}"
    for n in range(rows):
        path = root / f"op{n % 100:03}/2026-01-01_10-00-00_node_0_domain_0_nauss_0_{n}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"v")
    os.sync()  # on disk, as the purge's tree is when it starts (see measure)
    start = time.perf_counter()
    subprocess.run(["find", str(root), "-type", "f", "-delete"], check=True)
    return time.perf_counter() - start


def measure(*, rows: int, base: Path, env: dict[str, str], verified: bool) -> tuple[int, float]:
    """Peak resident memory, in bytes, of ``manage.py purge_expired`` purging ``rows``
    expired recordings: the real command in its own process, as an operator runs it."""
    zone = fill(rows=rows, base=base, verified=verified)
    # Both trees are written out before they are timed. Expired recordings have been on disk
    # for weeks; a file still only in the page cache (ext4 allocates its block at writeback)
    # is deleted without freeing a block or issuing a discard, several times faster (20,000
    # files: find 0.3 s fresh, 2.5 s synced on this machine). Without the sync, find got a
    # tree it had just written and the purge one half written back while it ran.
    os.sync()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [PYTHON, str(REPO / "manage.py"), "purge_expired", "--zone", zone.name],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output = proc.stdout.read().decode(errors="replace")
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0 or f"deleted {rows}," not in output:
        raise SystemExit(f"the purge of {rows} rows failed:\n{output}")
    if any((base / f"store-{rows}").rglob("*.mp4")):
        raise SystemExit(f"the purge of {rows} rows left files behind")
    peak = usage.ru_maxrss * 1024  # Linux reports KiB
    print(
        f"purge_expired of {rows:>7,} expired recordings: peak RSS {peak / 2**20:.1f} MiB, "
        f"{seconds:.1f} s"
    )
    return peak, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--anchor", type=int, default=10_000)
    parser.add_argument(
        "--unverified",
        action="store_true",
        help="no integrity check before the purge: every file is read and hashed",
    )
    parser.add_argument("--database", default=DATABASE)
    args = parser.parse_args()
    database = args.database
    verified = not args.unverified
    print("rows verified by the integrity check" if verified else "rows never verified")

    database_create(database, fresh=True)
    env = bench_env(database, LOG_LEVEL="ERROR")
    manage("migrate", "--no-input", "-v0", env=env)
    os.environ.update(env)
    import django

    django.setup()
    base = Path(tempfile.mkdtemp(prefix="opvideo-bench-purge-"))
    try:
        anchor, _ = measure(rows=args.anchor, base=base, env=env, verified=verified)
        figure, purge_seconds = measure(rows=args.rows, base=base, env=env, verified=verified)
        find_seconds = find_delete_seconds(rows=args.rows, base=base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
        from django.db import connections

        connections.close_all()
        connect("mysql").cursor().execute(f"DROP DATABASE IF EXISTS `{database}`")
    growth = (figure - anchor) / (args.rows - args.anchor)
    print(f"growth between the two: {growth:.0f} bytes per row")
    print(f"find -type f -delete of {args.rows:,} files: {find_seconds:.1f} s")
    ratio = figure / anchor
    verdict = "ok" if ratio <= TARGET_RATIO else f"OVER TARGET {TARGET_RATIO}"
    time_ratio = purge_seconds / find_seconds
    time_verdict = "ok" if time_ratio <= 2 else "OVER TARGET 2"
    print(
        f"ratio: peak RSS at {args.rows:,} rows / at {args.anchor:,} rows (anchor, same run) "
        f"= {ratio:.2f} (target <= {TARGET_RATIO}: {verdict}); purge time / find -delete "
        f"= {time_ratio:.1f} (target <= 2: {time_verdict})"
    )


if __name__ == "__main__":
    main()
