"""Search at scale: the search page and the API looking a call up by session id among
1,000,000 recordings (option: 10,000,000), through gunicorn, against its anchors measured in
the same run:

- the same lookup on the seed's schema (no index on SESSIONID),
- a bare indexed SELECT through mysqlclient (the floor),
- a trivial login-protected view on the same server (the framework's floor).

Targets: page throughput under 8 concurrent clients >= 0.7 of the trivial view's; page
single-client median within 20x of the bare SELECT; the seed schema >= 1,000x slower than
OPVideo's lookup at 1M rows; queries per page constant in the number of results.

    python bench/search_scale.py [--rows 1000000] [--seconds 10] [--refill]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    NO_FILL,
    browser_cookies,
    connect,
    fill_forget,
    fill_record,
    fill_wanted,
    gunicorn,
    kept_database_ready,
    latencies,
    median_p99,
    ms,
    session_cookie,
    wrk_rps,
)

DATABASE = "opvideo_bench_search"
# Bump when what a fill writes changes: a kept database of another layout is refilled.
LAYOUT = 1
ZONES = 20
FILES_PER_SESSION = (1, 2, 2, 3, 5)  # transferred calls are recorded on several desks
SEED_DDL = """
CREATE TABLE `VIDEO_SEED` (
  `ZONE_ID` int(10) NOT NULL,
  `PROJECTID` varchar(40) DEFAULT NULL,
  `SESSIONID` varchar(50) NOT NULL,
  `FILE_NAME` varchar(100) NOT NULL,
  `RECORDING_DATE` date NOT NULL,
  `DELETE_DATE` date DEFAULT NULL,
  `STORAGE_DAYS` varchar(3) DEFAULT NULL,
  KEY `VIDEO_FK` (`ZONE_ID`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8
"""


def session_id(n: int) -> str:
    return f"node_0_domain_0_nauss_0_{1600000000 + n}_{100000 + n % 900000}"


def fill(rows: int, env: dict[str, str]) -> None:
    """``rows`` recordings in ZONES zones, dated over a year, several per session.

    The kept database is used as it is when it holds a complete fill of ``rows`` (recorded
    in BENCH_FILL once the fill ends); anything else (another ``--rows``, larger or
    smaller, or a fill that was interrupted) is emptied and filled anew, never added to.
    """
    conn = connect(DATABASE)
    cur = conn.cursor()
    wanted = {"rows": rows, "layout": LAYOUT}
    why = fill_wanted(conn, wanted)
    if why == NO_FILL and fill_unrecorded(cur, rows):
        # A database kept from before fills were recorded: the same rows, made by the same
        # code, in both tables.
        fill_record(conn, wanted)
        return
    if why is None:
        return
    print(f"filling {rows:,} rows ({why}) …", flush=True)
    started = time.monotonic()
    fill_forget(conn)
    cur.execute("SET FOREIGN_KEY_CHECKS=0")
    cur.execute("TRUNCATE VIDEO")
    cur.execute("SET FOREIGN_KEY_CHECKS=1")
    cur.execute("DROP TABLE IF EXISTS VIDEO_SEED")
    cur.execute(SEED_DDL)
    cur.execute("SELECT id FROM CONFIG ORDER BY id")
    zone_ids = [r[0] for r in cur.fetchall()]
    rng = random.Random(7)
    start = date(2025, 11, 1)
    batch, n, session = [], 0, 0
    insert = (
        "INSERT INTO VIDEO (ZONE_ID, PROJECTID, SESSIONID, FILE_NAME, RECORDING_DATE, SIZE,"
        " WORKSTATION) VALUES (%s, %s, %s, %s, %s, %s, %s)"
    )
    while n < rows:
        session += 1
        sid = session_id(session)
        zone = zone_ids[session % len(zone_ids)]
        day = start + timedelta(days=rng.randrange(365))
        project = f"corebo{session % max(1, rows // 500):026d}"  # ~500 files a project
        for k in range(min(rng.choice(FILES_PER_SESSION), rows - n)):
            ws = f"op{rng.randrange(1, 3000):04d}"
            batch.append((zone, project, sid, f"{ws}/{day}_{sid}_{k}.mp4", day, 50_000_000, ws))
            n += 1
        if len(batch) >= 20_000:
            cur.executemany(insert, batch)
            batch.clear()
    if batch:
        cur.executemany(insert, batch)
    # In slices of the primary key: one statement over ten million rows would hold a lock
    # on each of them in one transaction.
    cur.execute("SELECT COALESCE(MIN(id), 1) - 1, COALESCE(MAX(id), 0) FROM VIDEO")
    low, high = cur.fetchone()
    for first in range(low, high, 500_000):
        cur.execute(
            "INSERT INTO VIDEO_SEED (ZONE_ID, PROJECTID, SESSIONID, FILE_NAME, RECORDING_DATE)"
            " SELECT ZONE_ID, PROJECTID, SESSIONID, LEFT(FILE_NAME, 100), RECORDING_DATE"
            " FROM VIDEO WHERE id > %s AND id <= %s",
            (first, first + 500_000),
        )
    cur.execute("ANALYZE TABLE VIDEO, VIDEO_SEED")
    cur.fetchall()
    fill_record(conn, wanted)
    conn.close()
    print(f"filled in {time.monotonic() - started:.0f} s", flush=True)


def fill_unrecorded(cur, rows: int) -> bool:
    """Whether a database filled before fills were recorded holds ``rows`` in VIDEO and in
    VIDEO_SEED (counted: a few seconds at ten million, once)."""
    cur.execute("SELECT COUNT(*) FROM VIDEO")
    if cur.fetchone()[0] != rows:
        return False
    cur.execute("SHOW TABLES LIKE 'VIDEO_SEED'")
    if cur.fetchone() is None:
        return False
    cur.execute("SELECT COUNT(*) FROM VIDEO_SEED")
    return cur.fetchone()[0] == rows


def prepare(rows: int, refill: bool) -> dict[str, str]:
    env = kept_database_ready(DATABASE, refill=refill)
    from django.contrib.auth.models import User

    from zones.models import Zone
    from zones.services import zone_create

    for z in range(ZONES - Zone.objects.count()):
        zone_create(
            name=f"zone{Zone.objects.count() + 1:02d}-{z}",
            server="storage.example.ru",
            ssh_user="opvideo",
            speed_kbps=3000,
            path_src="/home/oper/.videos",
            path_dst="/srv/video",
            file_extension="mp4",
            public_address="video.example.ru",
            public_port=88,
        )
    User.objects.filter(username="bench").delete()
    User.objects.create_user("bench", password="bench-password-1")
    fill(rows, env)
    return env


def queries_per_page() -> dict[str, int]:
    """Queries for pages with few and with many results, counted in-process.

    A first page that holds every result needs no count; once there is more than a page
    there is one count by zone and one numbering of the page's calls, whatever the number
    of results.
    """
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(User.objects.get(username="bench"))
    # Warm what a worker holds after its first pages: the zones, and how the session id
    # column compares (its collation, read once).
    client.get("/", {"date_from": "2025-11-01", "date_to": "2026-10-31"}, HTTP_HOST="127.0.0.1")
    client.get("/", {"session": "node_0_domain_0_nauss_0_0"}, HTTP_HOST="127.0.0.1")
    cur = connect(DATABASE).cursor()
    cur.execute("SELECT SESSIONID FROM VIDEO GROUP BY SESSIONID HAVING COUNT(*) = 1 LIMIT 1")
    single = cur.fetchone()[0]
    cur.execute("SELECT SESSIONID FROM VIDEO GROUP BY SESSIONID HAVING COUNT(*) = 5 LIMIT 1")
    five = cur.fetchone()[0]
    cur.execute("SELECT PROJECTID FROM VIDEO GROUP BY PROJECTID HAVING COUNT(*) > 40 LIMIT 1")
    project = cur.fetchone()[0]
    cases = {
        "1 result": {"session": single},
        "5 results": {"session": five},
        "20 of a project": {"project": project},
        "20 of a year": {"date_from": "2025-11-01", "date_to": "2026-10-31"},
    }
    counts = {}
    for label, params in cases.items():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/", params, HTTP_HOST="127.0.0.1")
        assert response.status_code == 200, response.status_code
        counts[label] = len(ctx.captured_queries)
    return counts


def main() -> None:
    global DATABASE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per URL")
    parser.add_argument("--requests", type=int, default=300, help="single-client requests")
    parser.add_argument("--refill", action="store_true", help="drop and rebuild the data")
    parser.add_argument(
        "--database", default=DATABASE, help="the kept database (another, to run beside one)"
    )
    args = parser.parse_args()
    DATABASE = args.database

    env = prepare(args.rows, args.refill)
    cookie = session_cookie("bench")
    conn = connect(DATABASE)
    cur = conn.cursor()
    cur.execute("SELECT DISTINCT SESSIONID FROM VIDEO ORDER BY RAND(1) LIMIT 2000")
    sessions = [r[0] for r in cur.fetchall()]
    pick = random.Random(3).choice

    def bare() -> None:
        cur.execute(
            "SELECT id, ZONE_ID, FILE_NAME, RECORDING_DATE FROM VIDEO WHERE SESSIONID = %s",
            (pick(sessions),),
        )
        cur.fetchall()

    def seed() -> None:
        cur.execute(
            "SELECT ZONE_ID, FILE_NAME, RECORDING_DATE FROM VIDEO_SEED WHERE SESSIONID = %s",
            (pick(sessions),),
        )
        cur.fetchall()

    bare_med, bare_p99 = median_p99(latencies(bare, count=2000))
    seed_med, _ = median_p99(latencies(seed, count=5, warmup=1))
    queries = queries_per_page()

    with gunicorn(env) as base:
        headers = {"Cookie": browser_cookies(base, session=cookie)}

        def get(path: str):
            def call() -> None:
                request = urllib.request.Request(base + path(), headers=headers)
                with urllib.request.urlopen(request) as response:
                    response.read()

            return call

        page_med, page_p99 = median_p99(
            latencies(get(lambda: f"/?session={pick(sessions)}"), count=args.requests)
        )
        api_med, api_p99 = median_p99(
            latencies(get(lambda: f"/api/videos/?session={pick(sessions)}"), count=args.requests)
        )
        me_med, me_p99 = median_p99(latencies(get(lambda: "/api/me/"), count=args.requests))
        target = sessions[0]
        page_rps = wrk_rps(
            f"{base}/?session={target}", connections=8, seconds=args.seconds, headers=headers
        )
        me_rps = wrk_rps(f"{base}/api/me/", connections=8, seconds=args.seconds, headers=headers)

    print(f"rows:                         {args.rows:,} in {ZONES} zones")
    print(f"bare indexed SELECT:          median {ms(bare_med)}, p99 {ms(bare_p99)}")
    print(f"seed schema (no index):       median {ms(seed_med)}")
    print(f"search page, 1 client:        median {ms(page_med)}, p99 {ms(page_p99)}")
    print(f"API, 1 client:                median {ms(api_med)}, p99 {ms(api_p99)}")
    print(f"trivial view, 1 client:       median {ms(me_med)}, p99 {ms(me_p99)}")
    print(f"search page, 8 clients:       {page_rps:.0f} req/s")
    print(f"trivial view, 8 clients:      {me_rps:.0f} req/s")
    print("queries per page:             " + ", ".join(f"{n} ({k})" for k, n in queries.items()))
    print(
        f"ratio: page/trivial throughput {page_rps / me_rps:.2f} (target >= 0.70); "
        f"page/bare-SELECT median {page_med / bare_med:.1f}x (target <= 20x); "
        f"seed/OPVideo lookup {seed_med / bare_med:,.0f}x (target >= 1,000x); "
        f"queries {queries['1 result']}={queries['5 results']} and "
        f"{queries['20 of a project']}={queries['20 of a year']} (target: equal pairs)"
    )


if __name__ == "__main__":
    main()
