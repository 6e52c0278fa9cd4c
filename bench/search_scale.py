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
import os
import random
import sys
import urllib.request
from datetime import date, timedelta
from http.cookies import SimpleCookie
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    bench_env,
    bench_prepare,
    connect,
    database_create,
    gunicorn,
    latencies,
    manage,
    median_p99,
    ms,
    wrk_rps,
)

DATABASE = "opvideo_bench_search"
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
    """``rows`` recordings in ZONES zones, dated over a year, several per session."""
    conn = connect(DATABASE)
    cur = conn.cursor()
    cur.execute("SELECT COUNT(*) FROM VIDEO")
    if cur.fetchone()[0] == rows:
        return
    print(f"filling {rows:,} rows …", flush=True)
    cur.execute("SET FOREIGN_KEY_CHECKS=0")
    cur.execute("TRUNCATE VIDEO")
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
    cur.execute(
        "INSERT INTO VIDEO_SEED (ZONE_ID, PROJECTID, SESSIONID, FILE_NAME, RECORDING_DATE)"
        " SELECT ZONE_ID, PROJECTID, SESSIONID, LEFT(FILE_NAME, 100), RECORDING_DATE FROM VIDEO"
    )
    cur.execute("ANALYZE TABLE VIDEO, VIDEO_SEED")
    cur.fetchall()
    conn.close()


def prepare(rows: int, refill: bool) -> dict[str, str]:
    env = bench_env(DATABASE)
    if not refill and not zones_readable(env):
        print("the kept zones were written with another key (var/bench-field-key): refilling")
        refill = True
    database_create(DATABASE, fresh=refill)
    bench_prepare(env)
    os.environ.update(env)
    import django

    django.setup()
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


def zones_readable(env: dict[str, str]) -> bool:
    """Whether this checkout's key opens the kept database's zones (a database kept from
    another checkout, or from before its var/ was cleaned, holds secrets of another key).
    Asked in a child process: this one sets Django up only once the database is ready."""
    code = (
        "from zones.models import Zone\n"
        "from zones.fields import FieldDecryptionError\n"
        "try:\n"
        "    [z.link_secret for z in Zone.objects.all()]\n"
        "except FieldDecryptionError:\n"
        "    print('unreadable')\n"
    )
    try:
        return "unreadable" not in manage("shell", "-c", code, env=env)
    except SystemExit:  # no such database or tables yet: nothing to read
        return True


def session_cookie() -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    user = User.objects.get(username="bench")
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def browser_cookies(base: str, *, session: str) -> str:
    """The Cookie header a logged-in browser sends: its session and the CSRF cookie the
    first page set. Without the latter every page would mint and set a new CSRF secret,
    work a browser's requests never cause."""
    from django.conf import settings

    request = urllib.request.Request(base + "/", headers={"Cookie": session})
    with urllib.request.urlopen(request) as response:
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
    if settings.CSRF_COOKIE_NAME not in jar:
        raise SystemExit("the search page set no CSRF cookie: is the bench user logged in?")
    return f"{session}; {settings.CSRF_COOKIE_NAME}={jar[settings.CSRF_COOKIE_NAME].value}"


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
    cookie = session_cookie()
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
