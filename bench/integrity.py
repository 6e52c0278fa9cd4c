"""Integrity check (fixity): how fast ``videos_verify_integrity`` re-reads stored recordings
against their SHA-256, against ``sha256sum`` over the same files in the same run (the floor:
hashing without opening safely, pacing or recording anything); and, with an I/O budget set,
the rate it actually reads at against that budget.

Targets: verify throughput / sha256sum >= 0.8; budgeted rate within 10% of the budget.

Both read the files from the page cache (each is read once before anything is timed), so the
figures compare the hashing and the check's own work, not the disk; each is measured twice,
alternating, and the better time of each counts.

    python bench/integrity.py [--total-mb 1024] [--files 16] [--budget-mb 40] [--budget-seconds 5]

The database ``opvideo_bench_integrity`` is filled afresh every run and dropped afterwards;
the files go under /tmp and are removed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_env, connect, database_create, manage, scratch_dir

DATABASE = "opvideo_bench_integrity"
TARGET_RATIO = 0.8
TARGET_RATE_ERROR = 0.10
MB = 1_000_000


def fill(*, root: Path, files: int, total_mb: int):
    """A zone whose PATH_DST holds ``files`` recordings of ``total_mb`` MiB together, each
    with its row and its workstation hash."""
    from storage.models import HashOrigin, Video
    from zones.services import zone_create

    zone = zone_create(
        name="benchfix",
        server="storage.bench.example.ru",
        ssh_user="opvideo",
        speed_kbps=3000,
        path_src="/home/oper/.videos",
        path_dst=str(root),
        file_extension="mp4",
        enabled=False,  # no beat entry: the benchmark runs the check
    )
    size = total_mb * 2**20 // files
    block = os.urandom(2**20)
    rows = []
    for n in range(files):
        name = f"op{n % 4:03}/Звонок_{n:04}_node_0_domain_0_nauss_0_{1629126106 + n}_{n}.mp4"
        path = root / name
        path.parent.mkdir(exist_ok=True)
        digest = hashlib.sha256()
        with path.open("wb") as f:
            # Every file different: a rotating block, its number in the first bytes.
            for m in range(size // len(block)):
                chunk = n.to_bytes(8, "big") + block[8 + m % 64 :] + block[: m % 64]
                f.write(chunk)
                digest.update(chunk)
        rows.append(
            Video(
                zone=zone,
                session_id=f"node_0_domain_0_nauss_0_{1629126106 + n}_{n}",
                file_name=name,
                recording_date=date(2026, 11, 1),
                size=path.stat().st_size,
                content_hash=digest.hexdigest(),
                hash_origin=HashOrigin.WORKSTATION,
            )
        )
    Video.objects.bulk_create(rows)
    return zone, sorted(str(p) for p in root.rglob("*.mp4"))


def sha256sum_seconds(paths: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(["sha256sum", *paths], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def verify(*, zone, mb_per_s: float, budget_seconds: float | None = None):
    """One run of the check over every row (all made due again first)."""
    from django.utils import timezone

    from storage.integrity import videos_verify_integrity
    from storage.models import Video

    Video.objects.filter(zone=zone).update(integrity_checked_at=None, integrity_ok=None)
    summary = videos_verify_integrity(
        zone=zone, now=timezone.now(), mb_per_s=mb_per_s, budget_seconds=budget_seconds
    )
    if summary.findings or summary.failed:
        raise SystemExit(f"the check found problems in intact files: {summary.line()}")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--total-mb", type=int, default=1024, help="MiB of recordings")
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--budget-mb", type=float, default=40, help="budget, MB/s (10^6 B)")
    parser.add_argument("--budget-seconds", type=float, default=5, help="budgeted run's length")
    args = parser.parse_args()

    database_create(DATABASE, fresh=True)
    env = bench_env(DATABASE, LOG_LEVEL="ERROR")
    manage("migrate", "--no-input", "-v0", env=env)
    os.environ.update(env)
    import django

    django.setup()
    try:
        with scratch_dir("opvideo-bench-integrity-") as base:
            root = base / "store"
            root.mkdir()
            zone, paths = fill(root=root, files=args.files, total_mb=args.total_mb)
            total = sum(os.path.getsize(p) for p in paths)
            sha256sum_seconds(paths)  # into the page cache, for both
            sums, checks = [], []
            for _round in range(2):
                sums.append(sha256sum_seconds(paths))
                summary = verify(zone=zone, mb_per_s=0)
                if summary.bytes_read != total:
                    raise SystemExit(f"the check read {summary.bytes_read} of {total} bytes")
                checks.append(summary.seconds)
            budgeted = verify(
                zone=zone, mb_per_s=args.budget_mb, budget_seconds=args.budget_seconds
            )
    finally:
        from django.db import connections

        connections.close_all()
        connect("mysql").cursor().execute(f"DROP DATABASE IF EXISTS `{DATABASE}`")

    sum_rate = total / MB / min(sums)
    check_rate = total / MB / min(checks)
    print(
        f"{args.files} files, {total / 2**20:,.0f} MiB: sha256sum {min(sums):.2f} s "
        f"({sum_rate:,.0f} MB/s), verify_integrity unthrottled {min(checks):.2f} s "
        f"({check_rate:,.0f} MB/s)"
    )
    rate = budgeted.bytes_read / MB / budgeted.seconds
    print(
        f"budget {args.budget_mb:g} MB/s, run bound {args.budget_seconds:g} s: read "
        f"{budgeted.bytes_read / MB:,.1f} MB in {budgeted.seconds:.2f} s = {rate:.2f} MB/s "
        f"({budgeted.checked} files, {budgeted.due_left} left for the next run)"
    )
    ratio = check_rate / sum_rate
    verdict = "ok" if ratio >= TARGET_RATIO else f"UNDER TARGET {TARGET_RATIO}"
    error = abs(rate - args.budget_mb) / args.budget_mb
    rate_verdict = "ok" if error <= TARGET_RATE_ERROR else "OFF TARGET 10%"
    print(
        f"ratio: verify_integrity / sha256sum (anchor, same run) = {ratio:.2f} "
        f"(target >= {TARGET_RATIO}: {verdict}); measured rate / budget = "
        f"{rate / args.budget_mb:.3f} (target within 10%: {rate_verdict})"
    )


if __name__ == "__main__":
    main()
