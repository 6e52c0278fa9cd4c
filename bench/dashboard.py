"""The admin home at scale: GET /admin/ signed in as a superuser, with 20 zones, 2,000
workstations and 1,000,000 recordings over 90 days (option: 10,000,000), through gunicorn,
against the admin's own zone list (/admin/zones/zone/) on the same server in the same run.

Target: the home's median within 3x of the zone list's, and the same ratio at 10,000,000
recordings as at 1,000,000 (within 1.2x): the home reads the daily figures (ZONE_DAY), the
storage snapshots, the purge runs, the integrity findings and the workstations, never a scan
of VIDEO.

    python bench/dashboard.py [--rows 1000000] [--requests 200] [--refill]
    python bench/dashboard.py --rows 10000000 --compare 1000000

The fill is made in MariaDB (INSERT ... SELECT from the SEQUENCE engine, in chunks), then
what the zones' workers would have recorded is derived from those rows: ZONE_DAY by GROUP BY,
hourly STORAGE_SNAPSHOT from the running totals, a purge run a zone a day with the day's
purged rows, integrity findings on rows marked failed. Each size has its own database, kept
between runs (opvideo_bench_dashboard_<rows>) and refilled when what it holds is not this
fill (another --rows given with --database, a fill interrupted, the fill's layout changed);
the workstations' times are set anew each run, relative to now, so their health mix does
not age. Its dates are those of the day it was filled (--refill to move them).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    bench_env,
    browser_cookies,
    connect,
    database_claim,
    fill_forget,
    fill_record,
    fill_wanted,
    gunicorn,
    kept_database_ready,
    median_p99,
    ms,
    session_cookie,
)

DATABASE = "opvideo_bench_dashboard"  # _<rows> is appended unless --database is given
ZONES = 20
WORKSTATIONS_PER_ZONE = 100  # 2,000 in all
DAYS = 90
RETENTIONS = (30, 60, 90, 180)  # zone n keeps RETENTIONS[n % 4] days: some purge daily
CHUNK = 250_000  # the rows of seq_1_to_250000 (fill_video)
# Bump when what a fill writes changes: a kept database of another layout is refilled.
LAYOUT = 2
DISK_BYTES = 40 * 10**12  # each zone's PATH_DST: 40 TB
OTHER_BYTES = 200 * 10**9  # what else its disk holds
USERNAME = "bench-admin"
HOME, ANCHOR = "/admin/", "/admin/zones/zone/"


def zones_make() -> list[tuple[int, str, int]]:
    """The 20 zones (made once, kept): [(id, name, retention days)]."""
    from zones.models import Zone
    from zones.services import zone_create

    for n in range(Zone.objects.count() + 1, ZONES + 1):
        zone_create(
            name=f"zone{n:02d}",
            server=f"storage{n:02d}.example.ru",
            ssh_user="opvideo",
            speed_kbps=3000,
            path_src="/home/oper/.videos",
            path_dst="/srv/video",
            file_extension="mp4",
            public_address=f"video{n:02d}.example.ru",
            public_port=88,
            retention_days=RETENTIONS[n % len(RETENTIONS)],
        )
    return list(Zone.objects.order_by("id").values_list("id", "name", "retention_days"))


def utc_offset_hours(day: date) -> int:
    """TIME_ZONE's offset that day, whole hours (Moscow: 3, no DST): the rows' local dates
    are computed in SQL from UTC times, and the server has no time zone tables."""
    from django.conf import settings

    offset = datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(settings.TIME_ZONE))
    return int(offset.utcoffset().total_seconds() // 3600)


def fill_video(cur, rows: int, as_of: date, offset: int) -> None:
    """``rows`` recordings, oldest first, spread evenly over the DAYS days up to ``as_of``
    and over the zones and their workstations; each registered ten minutes after it
    started (working hours, local). Rows past their zone's retention carry the DELETE_DATE
    of the purge that took them (the day after they expired); two in three of the others
    have been checked by the integrity check a few days after they arrived.

    Ordered by time so that the indexes are appended to, not written at random (the buffer
    pool is far smaller than 10,000,000 rows' indexes)."""
    first = as_of - timedelta(days=DAYS - 1)
    # The SEQUENCE engine's table gives CHUNK numbers; each chunk offsets them by ``lo``.
    sql = """
        INSERT INTO VIDEO (ZONE_ID, PROJECTID, SESSIONID, FILE_NAME, RECORDING_DATE, DELETE_DATE,
            STORAGE_DAYS, SIZE, WORKSTATION, REGISTERED_AT, HASH, HASH_ORIGIN,
            INTEGRITY_CHECKED_AT, INTEGRITY_OK, STARTED_AT, DURATION, MEDIA_STATE, CODEC,
            WIDTH, HEIGHT)
        SELECT r.ZID, CONCAT('corebo', LPAD(MOD(r.I, 500), 26, '0')), r.SID,
            CONCAT(r.WS, '/', r.DAY, '_', r.SID, '.mp4'), r.DAY,
            IF(r.GONE <= %(as_of)s, r.GONE, NULL),
            r.RETENTION, r.SIZE, r.WS, r.STARTED + INTERVAL 10 MINUTE,
            SHA2(r.SID, 256), 'workstation',
            IF(MOD(r.I, 3) = 0 OR r.GONE <= %(as_of)s, NULL,
               LEAST(r.STARTED + INTERVAL (1 + MOD(r.I, 5)) DAY, %(now)s)),
            IF(MOD(r.I, 3) = 0 OR r.GONE <= %(as_of)s, NULL, 1),
            r.STARTED, 60 + MOD(r.I, 900), 'done', 'h264', 1920, 1080
        FROM (
            SELECT q.I, q.ZID, q.RETENTION, q.DAY,
                q.DAY + INTERVAL q.RETENTION + 1 DAY AS GONE,
                CONCAT('z', LPAD(q.ZN + 1, 2, '0'), '-op',
                       LPAD(MOD(q.I DIV %(zones)s, %(per_zone)s), 3, '0')) AS WS,
                TIMESTAMP(q.DAY, SEC_TO_TIME(8 * 3600 + MOD(q.I * 7919, 10 * 3600)))
                    - INTERVAL %(offset)s HOUR AS STARTED,
                CONCAT('node_0_domain_0_nauss_0_', 1700000000 + q.I, '_',
                       100000 + MOD(q.I, 900000)) AS SID,
                20000000 + MOD(q.I * 7907, 60000000) AS SIZE
            FROM (
                SELECT t.I, MOD(t.I, %(zones)s) AS ZN, bz.ID AS ZID, bz.RETENTION,
                    %(first)s + INTERVAL (t.I * %(days)s DIV %(rows)s) DAY AS DAY
                FROM (SELECT s.seq - 1 + %(lo)s AS I FROM seq_1_to_250000 AS s) AS t
                JOIN BENCH_ZONE AS bz ON bz.N = MOD(t.I, %(zones)s)
                WHERE t.I < %(rows)s
            ) AS q
        ) AS r
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    started = time.monotonic()
    for lo in range(0, rows, CHUNK):
        cur.execute(
            sql,
            {
                "as_of": as_of,
                "now": now,
                "first": first,
                "rows": rows,
                "lo": lo,
                "zones": ZONES,
                "per_zone": WORKSTATIONS_PER_ZONE,
                "days": DAYS,
                "offset": offset,
            },
        )
        done = min(lo + CHUNK, rows)
        rate = done / (time.monotonic() - started)
        print(f"  {done:,} rows, {rate:,.0f} rows/s", flush=True)


def fill_zone_days(cur, offset: int) -> None:
    """ZONE_DAY from VIDEO as the workers' roll-up would have it: arrivals by the local
    date of REGISTERED_AT, purges by DELETE_DATE."""
    cur.execute("DELETE FROM ZONE_DAY")
    cur.execute(
        "INSERT INTO ZONE_DAY (ZONE_ID, DAY, RECEIVED, RECEIVED_BYTES, PURGED, PURGED_BYTES,"
        " UPDATED_AT)"
        " SELECT ZONE_ID, DATE(REGISTERED_AT + INTERVAL %s HOUR) AS D, COUNT(*),"
        " SUM(SIZE), 0, 0, UTC_TIMESTAMP(6) FROM VIDEO GROUP BY ZONE_ID, D",
        (offset,),
    )
    cur.execute(
        "INSERT INTO ZONE_DAY (ZONE_ID, DAY, RECEIVED, RECEIVED_BYTES, PURGED, PURGED_BYTES,"
        " UPDATED_AT)"
        " SELECT ZONE_ID, DELETE_DATE, 0, 0, COUNT(*), SUM(SIZE), UTC_TIMESTAMP(6) FROM VIDEO"
        " WHERE DELETE_DATE IS NOT NULL GROUP BY ZONE_ID, DELETE_DATE"
        " ON DUPLICATE KEY UPDATE PURGED = VALUES(PURGED), PURGED_BYTES = VALUES(PURGED_BYTES)"
    )


def fill_derived(zones, as_of: date, offset: int) -> None:
    """Snapshots, purge runs and integrity findings, consistent with ZONE_DAY and VIDEO."""
    from django.db import connection

    from storage.models import IntegrityFinding, PurgeRun, StorageSnapshot, ZoneDay

    StorageSnapshot.objects.all().delete()
    PurgeRun.objects.all().delete()
    IntegrityFinding.objects.all().delete()
    first = as_of - timedelta(days=DAYS - 1)
    # Times are built as local wall-clock times (labelled UTC) and moved back by the
    # offset: the zone's day runs from local midnight, as ZONE_DAY's days do.
    days = {(d.zone_id, d.day): d for d in ZoneDay.objects.all()}
    snapshots, runs = [], []
    for zone_id, name, retention in zones:
        files = file_bytes = 0
        for n in range(DAYS):
            day = first + timedelta(days=n)
            figures = days.get((zone_id, day))
            received = figures.received if figures else 0
            received_bytes = figures.received_bytes if figures else 0
            purged = figures.purged if figures else 0
            purged_bytes = figures.purged_bytes if figures else 0
            # The purge runs at 03:00 local, before the day's arrivals (08:10 on).
            start = datetime(day.year, day.month, day.day, 3, tzinfo=UTC) - timedelta(hours=offset)
            runs.append(
                PurgeRun(
                    zone_id=zone_id,
                    zone_name=name,
                    trigger=PurgeRun.Trigger.SCHEDULE,
                    status=PurgeRun.Status.FINISHED,
                    today=day,
                    started_at=start,
                    finished_at=start + timedelta(seconds=30 + purged // 100),
                    deleted=purged,
                    bytes_freed=purged_bytes,
                )
            )
            files -= purged
            file_bytes -= purged_bytes
            oldest = max(first, day - timedelta(days=retention))
            for hour in range(24):
                local = datetime(day.year, day.month, day.day, hour, 5, tzinfo=UTC)
                # The day's arrivals spread over the working hours 8-18 local.
                share = min(max(hour - 8, 0), 10) / 10
                count = files + int(received * share)
                held = file_bytes + int(received_bytes * share)
                snapshots.append(
                    StorageSnapshot(
                        zone_id=zone_id,
                        taken_at=local - timedelta(hours=offset),
                        total_bytes=DISK_BYTES,
                        used_bytes=held + OTHER_BYTES,
                        free_bytes=DISK_BYTES - held - OTHER_BYTES,
                        file_count=count,
                        file_bytes=held,
                        oldest_recording=oldest,
                    )
                )
            files += received
            file_bytes += received_bytes
        # Today so far: nothing has arrived yet (the fill ends yesterday), the hours pass.
        day = as_of + timedelta(days=1)
        for hour in range(24):
            local = datetime(day.year, day.month, day.day, hour, 5, tzinfo=UTC)
            snapshots.append(
                StorageSnapshot(
                    zone_id=zone_id,
                    taken_at=local - timedelta(hours=offset),
                    total_bytes=DISK_BYTES,
                    used_bytes=file_bytes + OTHER_BYTES,
                    free_bytes=DISK_BYTES - file_bytes - OTHER_BYTES,
                    file_count=files,
                    file_bytes=file_bytes,
                    oldest_recording=oldest,
                )
            )
    # Today's hours that have not come yet are not snapshots.
    now = datetime.now(UTC)
    snapshots = [s for s in snapshots if s.taken_at <= now]
    runs = [r for r in runs if r.started_at <= now]
    # One in 30 runs failed on the way (a disk error): the dashboard shows the last result.
    for n, run in enumerate(runs):
        if n % 30 == 7:
            run.status = PurgeRun.Status.FAILED
            run.error = "OSError: [Errno 5] Input/output error"
    StorageSnapshot.objects.bulk_create(snapshots, batch_size=5000)
    PurgeRun.objects.bulk_create(runs, batch_size=2000)

    # Three findings a zone, on rows the check read (and marked not ok).
    findings = []
    for zone_id, name, _retention in zones:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT id, FILE_NAME, SIZE, HASH, INTEGRITY_CHECKED_AT FROM VIDEO"
                " WHERE ZONE_ID = %s AND INTEGRITY_OK = 1 ORDER BY id DESC LIMIT 3",
                [zone_id],
            )
            picked = cur.fetchall()
            for row in picked:
                cur.execute("UPDATE VIDEO SET INTEGRITY_OK = 0 WHERE id = %s", [row[0]])
        for (video_id, file_name, size, sha, checked), kind in zip(
            picked, IntegrityFinding.Kind.values, strict=False
        ):
            findings.append(
                IntegrityFinding(
                    video_id=video_id,
                    zone_id=zone_id,
                    zone_name=name,
                    file_name=file_name,
                    found_at=checked.replace(tzinfo=UTC),
                    kind=kind,
                    expected_hash=sha,
                    actual_hash="0" * 64 if kind == "mismatch" else "",
                    expected_size=size,
                    actual_size=size - 1 if kind == "size" else None,
                )
            )
    IntegrityFinding.objects.bulk_create(findings)


def workstations_make(zones) -> dict[str, int]:
    """2,000 workstations (the VIDEO rows' names), in mixed health relative to now: most
    ok, one in eight quiet (no heartbeat for a day), one in twelve failing (reporting, not
    delivering), a few keeping recordings that collide. Remade every run."""
    from django.utils import timezone

    from client_agent.health import health_counts
    from client_agent.models import Workstation

    Workstation.objects.all().delete()
    now = timezone.now()
    rows = []
    for zn, (zone_id, name, _retention) in enumerate(zones):
        for w in range(WORKSTATIONS_PER_ZONE):
            n = zn * WORKSTATIONS_PER_ZONE + w
            seen = now - timedelta(minutes=n % 9)
            success = seen - timedelta(minutes=n % 30)
            pending, error, collisions = n % 7, "", 0
            if n % 8 == 3:
                seen = now - timedelta(hours=20 + n % 50)
                success = seen - timedelta(minutes=5)
                pending = 40 + n % 200
            elif n % 12 == 5:
                success = now - timedelta(days=1 + n % 4)
                pending = 300 + n % 900
                error = "rsync: connection unexpectedly closed (code 12)"
            elif n % 97 == 11:
                collisions = 1 + n % 3
            rows.append(
                Workstation(
                    host=f"z{zn + 1:02d}-op{w:03d}",
                    zone_name=name,
                    zone_id=zone_id,
                    last_seen=seen,
                    last_success=success,
                    pending_count=pending,
                    delivered_count=0 if error else n % 40,
                    collision_count=collisions,
                    last_error=error,
                    version="2026.11",
                )
            )
    Workstation.objects.bulk_create(rows, batch_size=1000)
    totals = dict.fromkeys(("ok", "quiet", "failing"), 0)
    for states in health_counts().values():
        for state, count in states.items():
            totals[state] += count
    return totals


def fill(rows: int, zones) -> None:
    """The kept database's recordings and what is derived from them, unless it already
    holds this fill (``--rows`` and LAYOUT); any other is replaced whole, whatever its
    size: a fill never adds to rows it did not write."""
    from django.utils import timezone

    conn = connect(DATABASE)
    cur = conn.cursor()
    wanted = {"rows": rows, "zones": ZONES, "days": DAYS, "layout": LAYOUT}
    why = fill_wanted(conn, wanted)
    if why is None:
        return
    print(f"filling {rows:,} rows ({why}) …", flush=True)
    started = time.monotonic()
    fill_forget(conn)
    # Yesterday, the last whole day: nothing is dated in the future, whatever the hour of
    # the fill (arrivals 08:10-18:10 local, the purge at 03:00).
    as_of = timezone.localdate() - timedelta(days=1)
    offset = utc_offset_hours(as_of)
    cur.execute("SET FOREIGN_KEY_CHECKS=0")
    for table in ("VIDEO", "ZONE_DAY", "STORAGE_SNAPSHOT"):
        cur.execute(f"TRUNCATE {table}")
    cur.execute("SET FOREIGN_KEY_CHECKS=1")
    cur.execute("DROP TEMPORARY TABLE IF EXISTS BENCH_ZONE")
    cur.execute("CREATE TEMPORARY TABLE BENCH_ZONE (N int PRIMARY KEY, ID int, RETENTION int)")
    cur.executemany(
        "INSERT INTO BENCH_ZONE VALUES (%s, %s, %s)",
        [(n, zone_id, retention) for n, (zone_id, _name, retention) in enumerate(zones)],
    )
    fill_video(cur, rows, as_of, offset)
    video_s = time.monotonic() - started
    fill_zone_days(cur, offset)
    fill_derived(zones, as_of, offset)
    cur.execute("ANALYZE TABLE VIDEO, ZONE_DAY, STORAGE_SNAPSHOT")
    cur.fetchall()
    fill_record(conn, {**wanted, "as_of": as_of.isoformat()})
    conn.close()
    print(f"filled in {time.monotonic() - started:.0f} s (VIDEO {video_s:.0f} s)", flush=True)


def prepare(rows: int, refill: bool) -> tuple[dict[str, str], dict[str, int]]:
    env = kept_database_ready(DATABASE, refill=refill)
    from django.contrib.auth.models import User

    zones = zones_make()
    fill(rows, zones)
    health = workstations_make(zones)
    User.objects.filter(username=USERNAME).delete()
    User.objects.create_superuser(USERNAME, password="bench-password-1")
    return env, health


def queries_per_page(path: str) -> int:
    """Queries the page makes, in-process, after a first request (what a warm worker
    holds)."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(User.objects.get(username=USERNAME))
    client.get(path, HTTP_HOST="127.0.0.1")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, HTTP_HOST="127.0.0.1")
    if response.status_code != 200:
        raise SystemExit(f"{path}: {response.status_code}")
    return len(ctx.captured_queries)


def site_prepare(rows: int, refill: bool) -> dict:
    """Fill (if needed) and sign in: what serving and reporting a database needs."""
    env, health = prepare(rows, refill)
    return {
        "rows": rows,
        "database": DATABASE,
        "env": env,
        "health": health,
        "cookie": session_cookie(USERNAME),
        "queries": {path: queries_per_page(path) for path in (HOME, ANCHOR)},
    }


def site_prepare_apart(rows: int, refill: bool) -> dict:
    """``site_prepare`` for another size, in a process of its own (Django is set up for
    this one's database); its fill's progress is passed through."""
    child = subprocess.run(
        [sys.executable, __file__, "--rows", str(rows), "--prepare-only"]
        + (["--refill"] if refill else []),
        capture_output=True,
        text=True,
        check=False,
    )
    *lines, last = child.stdout.splitlines() or [""]
    print("".join(f"{line}\n" for line in lines) + child.stderr, end="", flush=True)
    if child.returncode != 0 or not last.startswith("{"):
        raise SystemExit(f"preparing {rows:,} rows failed")
    site = json.loads(last)
    # Held from here on by this process, which serves it (the child's claim ended with it).
    database_claim(site["database"])
    site["env"] = bench_env(site["database"])
    return site


def measure(sites: list[dict], requests: int) -> list[dict[str, list[float]]]:
    """Both pages of every site, each on its own gunicorn, all running at once; requests
    alternated page by page and site by site, so that whatever else the machine does
    weighs on all alike."""
    with contextlib.ExitStack() as stack:
        bases = [stack.enter_context(gunicorn(site["env"])) for site in sites]
        for site, base in zip(sites, bases, strict=True):
            site["headers"] = {"Cookie": browser_cookies(base, session=site["cookie"], path=HOME)}
            site["sizes"] = {}

        def get(site: dict, base: str, path: str) -> float:
            request = urllib.request.Request(base + path, headers=site["headers"])
            start = time.perf_counter()
            with urllib.request.urlopen(request) as response:
                body = response.read()
                # urlopen follows redirects: a page that sent us to the login is no page.
                if response.geturl() != base + path:
                    raise SystemExit(f"{path} redirected to {response.geturl()}")
            elapsed = time.perf_counter() - start
            site["sizes"][path] = len(body)
            return elapsed

        times: list[dict[str, list[float]]] = [{HOME: [], ANCHOR: []} for _ in sites]
        for n in range(20 + requests):  # the first 20 warm every worker
            for site, base, timed in zip(sites, bases, times, strict=True):
                for path in (HOME, ANCHOR):
                    elapsed = get(site, base, path)
                    if n >= 20:
                        timed[path].append(elapsed)
    return times


def report(site: dict, times: dict[str, list[float]]) -> float:
    home_med, home_p99 = median_p99(times[HOME])
    anchor_med, anchor_p99 = median_p99(times[ANCHOR])
    ratio = home_med / anchor_med
    sizes, queries = site["sizes"], site["queries"]
    print(f"recordings:                   {site['rows']:,} over {DAYS} days in {ZONES} zones")
    print(
        "workstations:                 "
        + ", ".join(f"{count:,} {state}" for state, count in site["health"].items())
    )
    print(
        f"{'admin home ' + HOME + ':':<30}median {ms(home_med)}, p99 {ms(home_p99)}, "
        f"{sizes[HOME]:,} bytes, {queries[HOME]} queries"
    )
    print(
        f"{'zone list ' + ANCHOR + ':':<30}median {ms(anchor_med)}, p99 {ms(anchor_p99)}, "
        f"{sizes[ANCHOR]:,} bytes, {queries[ANCHOR]} queries"
    )
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--refill", action="store_true", help="drop and rebuild the data")
    parser.add_argument(
        "--database",
        help="the kept database (default opvideo_bench_dashboard_<rows>: each size is kept)",
    )
    parser.add_argument(
        "--compare",
        type=int,
        metavar="ROWS",
        help="also serve ROWS recordings (its own kept database) in the same minutes, and "
        "print the ratio of the two ratios (target <= 1.2)",
    )
    parser.add_argument("--prepare-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    global DATABASE
    DATABASE = args.database or f"{DATABASE}_{args.rows}"
    site = site_prepare(args.rows, args.refill)
    if args.prepare_only:  # for --compare: what the parent needs, as the last line
        print(json.dumps({key: value for key, value in site.items() if key != "env"}))
        return
    sites = [site]
    if args.compare is not None:
        sites.append(site_prepare_apart(args.compare, args.refill))
    ratios, homes = [], []
    for each, times in zip(sites, measure(sites, args.requests), strict=True):
        ratio = report(each, times)
        ratios.append((each["rows"], ratio))
        homes.append((each["rows"], median_p99(times[HOME])[0]))
        print(f"ratio: home/zone list median {ratio:.2f} at {each['rows']:,} rows (target <= 3)")
    if len(ratios) == 2:
        (small_rows, small), (big_rows, big) = sorted(ratios)
        (_, small_home), (_, big_home) = sorted(homes)
        print(
            f"ratio: {big_rows:,} rows / {small_rows:,} rows {big / small:.2f} "
            f"(home/zone list {big:.2f} against {small:.2f}, served side by side; "
            f"target <= 1.2); the homes' medians alone {big_home / small_home:.2f}"
        )


if __name__ == "__main__":
    main()
