"""Registration: the workstation client registering 100,000 new recordings in one cycle
(scan PATH_SRC, parse the names, insert into VIDEO) against its anchor measured in the same
run, a bare mysqlclient ``executemany`` INSERT of the same rows into a scratch copy of VIDEO.

What is measured is the client's own code, in-process, with the client's own settings
(``client_agent.settings`` read from a db.conf) and its least-privilege database user
(``client_agent.grants``): the stages a cycle runs (``client_agent.stages``), in the same
order and batch size, with the transfer left out (no ``batch_send``/``batch_verify``;
``bench/transfer.py`` measures those) and the recheck pause set to zero:

- ``recordings_scan`` (scandir, stat, name checks, the zone's pattern, recording date),
- ``recordings_recheck`` (the second look at every file),
- per batch of OPVIDEO_BATCH_FILES (200): the post-transfer recheck of the batch and
  ``stages.batch_register`` (``video_register_batch``: one INSERT IGNORE and one read-back,
  autocommit, then ``connections.close_all()``, a fresh connection per batch as in a cycle).

Local clean-up (``stages.local_copies_remove``) is timed and printed too, outside the ratio.
The files are sparse (50 MB each, realistic sizes for the rows) and are not read for their
SHA-256: each gets one made from its name (``common.named_hashes``). In a cycle the hashing
runs while rsync sends the batch; ``bench/transfer.py`` measures what it costs there.

Also: the scan's peak memory (tracemalloc) with 20,000 (one round of the client, which keeps at most
services.SCAN_ROUND recordings in memory) and with 100,000 files in PATH_SRC.

Targets: client rows/s >= 0.5 of the bare insert's; scan memory flat in the file count.

    python bench/registration.py [--files 100000] [--small 20000] [--batch-files 200]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    MYSQL,
    bench_env,
    bench_prepare,
    connect,
    database_create,
    named_hashes,
    recording_name,
    scratch_dir,
    zone_fresh,
)

DATABASE = "opvideo_bench_registration"
ZONE = "bench-registration"
WORKSTATION = "op101"
CLIENT_USER = "opvideo_bench_client"
ANCHOR_TABLE = "VIDEO_BENCH_ANCHOR"
# Recordings are tens of megabytes; sparse files give VIDEO realistic sizes without writing
# gigabytes (the client only stats them).
FILE_SIZE = 50_000_000


def files_make(directory: Path, count: int, *, now: float) -> None:
    """``count`` finished recordings, one a second going back from an hour ago (so they are
    settled and spread over recording dates), sorted by the scan by time."""
    directory.mkdir()
    for n in range(count):
        path = directory / recording_name(n)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.ftruncate(fd, FILE_SIZE + n % 1000)
        finally:
            os.close(fd)
        stamp = now - 3600 - (count - n)
        os.utime(path, (stamp, stamp))


def client_configure(work: Path, *, password: str) -> None:
    """A db.conf like a workstation's, and the client's settings read from it."""
    config = work / "db.conf"
    values = {
        "DATABASE_URL": f"mysql://{CLIENT_USER}:{password}@127.0.0.1:3306/{DATABASE}",
        "OPVIDEO_ZONE": ZONE,
        "OPVIDEO_WORKSTATION": WORKSTATION,
        "OPVIDEO_RECHECK_SECONDS": "0",
        "OPVIDEO_STATE_DIR": str(work / "state"),
        "OPVIDEO_KEY_DIR": str(work / "run"),
        "OPVIDEO_RSYNC_LOG": str(work / "op_rsync.log"),
        "OPVIDEO_ERROR_LOG": str(work / "videos_error.log"),
        "LOG_LEVEL": "WARNING",
    }
    config.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    config.chmod(0o600)
    os.environ["OPVIDEO_CLIENT_CONFIG"] = str(config)
    os.environ["DJANGO_SETTINGS_MODULE"] = "client_agent.settings"
    import django

    django.setup()


def client_user(*, password: str | None) -> None:
    """Create the client's MariaDB user with exactly its GRANTs (password), or drop it (None)."""
    import MySQLdb

    from client_agent.grants import client_grants

    spec = f"'{CLIENT_USER}'@'%'"
    conn = MySQLdb.connect(**MYSQL)
    cur = conn.cursor()
    cur.execute(f"DROP USER IF EXISTS {spec}")
    if password is not None:
        cur.execute(f"CREATE USER {spec} IDENTIFIED BY '{password}'")
        for statement in client_grants(zone=ZONE, database=DATABASE, account=spec):
            cur.execute(statement)
    conn.close()


def scan(directory: Path, zone, config, *, limit: int | None = None, after=None):
    """``recordings_scan`` as a cycle calls it; ``limit`` defaults to the client's round,
    ``after`` is the previous round's ``last_key`` (None in the first round)."""
    from client_agent.selectors import recordings_scan
    from client_agent.services import SCAN_ROUND

    return recordings_scan(
        directory=directory,
        extension=zone.file_extension,
        pattern=zone.file_name_pattern,
        workstation=config.workstation,
        settle_seconds=config.settle_seconds,
        now=time.time(),
        limit=limit or SCAN_ROUND,
        after=after,
    )


def scan_peak_bytes(directory: Path, zone, config) -> tuple[int, int]:
    """(tracemalloc peak during one scan, recordings found). Python allocations only, which
    is where a scan's memory goes (scandir's buffer is a fixed few kilobytes)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        found = scan(directory, zone, config).ready_total
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, found


def client_register(zone, config) -> dict[str, float | int | list]:
    """What a cycle does to register PATH_SRC's recordings, minus the transfer; see the module
    docstring. The stages services._deliver_round and batch_deliver call, in their order."""
    from client_agent import stages
    from client_agent.selectors import recordings_recheck

    directory = Path(zone.path_src)
    timings = {"scan": 0.0, "recheck": 0.0, "register": 0.0, "cleanup": 0.0}
    registered = batches = 0
    batch_files = max(1, config.batch_files)
    after = None
    while True:  # services._deliver: rounds of at most SCAN_ROUND recordings
        started = time.perf_counter()
        found = scan(directory, zone, config, after=after)
        scanned = time.perf_counter()
        ready, _growing = recordings_recheck(directory=directory, recordings=found.ready)
        rechecked = time.perf_counter()
        hashed = []
        for start in range(0, len(ready), batch_files):
            # (batch_send, which hashes the batch, and batch_verify would come here)
            batch = named_hashes(ready[start : start + batch_files])
            arrived, _changed = recordings_recheck(directory=directory, recordings=batch)
            result = stages.batch_register(
                zone=zone, workstation=config.workstation, recordings=arrived
            )
            if result.error:
                raise SystemExit(f"registration failed: {result.error}")
            registered += len(result.registered)
            hashed += result.registered
            batches += 1
        registered_at = time.perf_counter()
        # As a cycle does once a batch is confirmed (here after the round, timed apart).
        stages.local_copies_remove(directory=directory, recordings=hashed)
        timings["scan"] += scanned - started
        timings["recheck"] += rechecked - scanned
        timings["register"] += registered_at - rechecked
        timings["cleanup"] += time.perf_counter() - registered_at
        if found.ready_total <= len(found.ready):
            break
        after = found.last_key
    return {
        **timings,
        "total": timings["scan"] + timings["recheck"] + timings["register"],
        "registered": registered,
        "batches": batches,
    }


def bare_insert(rows: list[tuple]) -> float:
    """Seconds for one ``executemany`` of ``rows`` into an empty copy of VIDEO (its indexes,
    not its foreign key: CREATE TABLE … LIKE leaves those out), as root, autocommit."""
    from storage.models import Video
    from storage.registration import REGISTER_FIELDS

    columns = ", ".join(f"`{Video._meta.get_field(name).column}`" for name in REGISTER_FIELDS)
    placeholders = ", ".join(["%s"] * len(REGISTER_FIELDS))
    conn = connect(DATABASE)
    cur = conn.cursor()
    cur.execute(f"DROP TABLE IF EXISTS {ANCHOR_TABLE}")
    cur.execute(f"CREATE TABLE {ANCHOR_TABLE} LIKE {Video._meta.db_table}")
    try:
        started = time.perf_counter()
        cur.executemany(
            f"INSERT INTO {ANCHOR_TABLE} ({columns}) VALUES ({placeholders})",  # noqa: S608
            rows,
        )
        elapsed = time.perf_counter() - started
        cur.execute(f"SELECT COUNT(*) FROM {ANCHOR_TABLE}")  # noqa: S608
        assert cur.fetchone()[0] == len(rows)
    finally:
        cur.execute(f"DROP TABLE IF EXISTS {ANCHOR_TABLE}")
        conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000, help="recordings to register")
    # The client keeps at most one round (services.SCAN_ROUND, 20,000) of recordings in
    # memory: compare a directory of one round's size with one five times larger.
    parser.add_argument("--small", type=int, default=20_000, help="smaller scan, for memory")
    parser.add_argument(
        "--batch-files", type=int, default=0, help="OPVIDEO_BATCH_FILES (default: the client's)"
    )
    parser.add_argument("--refill", action="store_true", help="drop and recreate the database")
    args = parser.parse_args()

    env = bench_env(DATABASE)
    database_create(DATABASE, fresh=args.refill)
    bench_prepare(env)
    password = secrets.token_urlsafe(16)
    with scratch_dir("opvideo-bench-registration-") as work:
        src, small = work / "videos", work / "videos-small"
        zone_id = zone_fresh(
            env,
            name=ZONE,
            server="storage.example.ru",
            ssh_user="opvideo",
            speed_kbps=3000,
            path_src=str(src),
            path_dst="/srv/video",
            file_extension="mp4",
            public_address="video.example.ru",
            public_port=88,
            retention_days=30,
        )
        client_configure(work, password=password)
        if args.batch_files:
            from django.conf import settings

            settings.OPVIDEO_BATCH_FILES = args.batch_files
        client_user(password=password)
        try:
            run(args, src=src, small=small, zone_id=zone_id)
        finally:
            client_user(password=None)


def run(args: argparse.Namespace, *, src: Path, small: Path, zone_id: int) -> None:
    from django.db import connections

    from client_agent.conf import agent_config
    from client_agent.selectors import zone_for_client

    now = time.time()
    started = time.perf_counter()
    files_make(src, args.files, now=now)
    files_make(small, args.small, now=now)
    made = time.perf_counter() - started

    config = agent_config()
    zone = zone_for_client(name=ZONE)  # as the cycle reads it: the client's columns only
    connections.close_all()
    assert zone.pk == zone_id and Path(zone.path_src) == src

    scan(small, zone, config)  # compile the pattern, load the time zone: not per-file costs
    peak_small, found_small = scan_peak_bytes(small, zone, config)
    peak_big, found_big = scan_peak_bytes(src, zone, config)
    assert (found_small, found_big) == (args.small, args.files), (found_small, found_big)

    # The anchor's rows: exactly what the client inserts, computed outside the timing.
    rows = [
        (
            zone.pk,
            r.project_id,
            r.session_id,
            r.stored_name,
            r.recording_date,
            zone.retention_days,
            r.size,
            config.workstation,
            r.content_hash,
            "workstation",
        )
        for r in named_hashes(scan(src, zone, config, limit=args.files).ready)
    ]
    bare = bare_insert(rows)

    client = client_register(zone, config)
    cur = connect(DATABASE).cursor()
    cur.execute("SELECT COUNT(*) FROM VIDEO WHERE ZONE_ID = %s", (zone.pk,))
    stored = cur.fetchone()[0]
    assert client["registered"] == stored == args.files, (client["registered"], stored)

    cleanup = client["cleanup"]
    assert not any(src.iterdir())

    bare_rps = len(rows) / bare
    client_rps = args.files / client["total"]
    per_file = peak_big / args.files
    print(f"files:                        {args.files:,} in PATH_SRC (made in {made:.1f} s)")
    print(f"bare executemany INSERT:      {bare:.2f} s, {bare_rps:,.0f} rows/s")
    print(
        f"client scan + parse:          {client['scan']:.2f} s "
        f"({client['scan'] / args.files * 1e6:.1f} us a file)"
    )
    print(f"client recheck:               {client['recheck']:.2f} s")
    print(
        f"client register:              {client['register']:.2f} s "
        f"({client['batches']} batches of {config.batch_files}, a connection each)"
    )
    print(f"client total:                 {client['total']:.2f} s, {client_rps:,.0f} rows/s")
    print(f"client clean-up (not in ratio): {cleanup:.2f} s")
    print(
        f"scan peak memory:             {peak_small / 2**20:.1f} MiB at {args.small:,} files, "
        f"{peak_big / 2**20:.1f} MiB at {args.files:,} ({per_file:.0f} bytes a file)"
    )
    print(
        f"ratio: client/bare-insert rows/s {client_rps / bare_rps:.2f} (target >= 0.50); "
        f"scan peak memory {args.files // 1000}k/{args.small // 1000}k files "
        f"{peak_big / peak_small:.1f}x (target: flat, ~1x)"
    )


if __name__ == "__main__":
    main()
