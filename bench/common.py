"""What the benchmarks share: a scratch MariaDB database, the project's own commands, a
real gunicorn, wrk, and plain statistics. Every benchmark measures its anchor in the same
run, because these machines are noisy and only ratios compare across runs."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import MySQLdb

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MYSQL = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


def bench_env(database: str, **extra: str) -> dict[str, str]:
    """Settings for a benchmark process: production-like, pointed at ``database``."""
    env = {
        **os.environ,
        "DATABASE_URL": f"mysql://root@127.0.0.1:3306/{database}",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or "bench-" + "x" * 50,
        "FIELD_ENCRYPTION_KEYS": _bench_field_key(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "opvideo.settings",
        # Production serves static files from collectstatic's manifest (bench_prepare).
        "DJANGO_STATIC_ROOT": str(REPO / "var" / "bench-static"),
    }
    env.update(extra)
    return env


def _bench_field_key() -> str:
    """One key per checkout, kept in var/ (git-ignored): benchmark databases outlive a run,
    and their zones' keys must stay readable by the next one."""
    from cryptography.fernet import Fernet

    path = REPO / "var" / "bench-field-key"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


_CLAIMS: dict[str, MySQLdb.Connection] = {}


def database_claim(name: str) -> None:
    """Hold the kept database ``name`` for this process's life (a MariaDB named lock,
    released when the process ends, however it ends). Two runs filling one database at once
    interleave their rows into duplicate-key errors, and one measuring while another
    refills measures nothing; a run whose make was interrupted can live on unseen."""
    if name in _CLAIMS:
        return
    conn = MySQLdb.connect(**MYSQL)
    cur = conn.cursor()
    lock = f"opvideo_bench:{name}"
    cur.execute("SELECT GET_LOCK(%s, 0)", (lock,))
    if cur.fetchone()[0] != 1:
        cur.execute("SELECT IS_USED_LOCK(%s)", (lock,))
        holder = cur.fetchone()[0]
        conn.close()
        raise SystemExit(
            f"another run is using the kept database {name} (MariaDB connection {holder}, "
            "see SHOW PROCESSLIST; a benchmark's process can outlive an interrupted make): "
            "wait for it to end or stop it, or keep another with --database NAME"
        )
    _CLAIMS[name] = conn


def database_create(name: str, *, fresh: bool) -> None:
    conn = MySQLdb.connect(**MYSQL)
    cur = conn.cursor()
    if fresh:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    cur.execute(
        f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )
    conn.close()


def bench_prepare(env: dict[str, str]) -> None:
    """Migrate, collect static files and compile the message catalogues, as a deployment
    does before serving (the .mo files are not in git: without them the pages would be
    rendered half in English, not as production renders them)."""
    manage("migrate", "--no-input", env=env)
    manage("collectstatic", "--no-input", "-v0", env=env)
    subprocess.run(
        [str(REPO / "scripts" / "compile-messages.sh")],
        cwd=REPO,
        env={**env, "PYTHON": PYTHON},
        check=True,
    )


def connect(database: str) -> MySQLdb.Connection:
    conn = MySQLdb.connect(**MYSQL, database=database, charset="utf8mb4")
    conn.autocommit(True)
    return conn


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [PYTHON, str(REPO / "manage.py"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 3, threads: int = 2) -> Iterator[str]:
    """The real WSGI server on a loopback port; yields its base URL.

    Workers and threads are production's defaults (docker/app/entrypoint.sh): change both.
    """
    port = free_port()
    proc = subprocess.Popen(
        [
            str(Path(PYTHON).with_name("gunicorn")),
            "opvideo.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/login/", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextlib.contextmanager
def server_running(command: list[str], *, port: int) -> Iterator[None]:
    """A server process (``command``) listening on loopback ``port``; stopped afterwards."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if proc.poll() is not None:
                raise SystemExit(f"{' '.join(command)} exited with {proc.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def nginx_running(*, conf: str, workdir: Path, port: int) -> contextlib.AbstractContextManager:
    """nginx with the config text ``conf`` (the project's own, rendered by
    ``storage.nginx.nginx_conf_render``), listening on ``port``."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "temp").mkdir(exist_ok=True)
    path = workdir / "nginx.conf"
    path.write_text(conf)
    return server_running(
        ["nginx", "-p", str(workdir), "-c", str(path), "-g", "daemon off;"], port=port
    )


def latencies(call: Callable[[], object], *, count: int, warmup: int = 20) -> list[float]:
    for _ in range(warmup):
        call()
    out = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def median_p99(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def wrk_rps(url: str, *, connections: int, seconds: int, headers: dict[str, str]) -> float:
    """Requests per second wrk sustains against ``url`` (a separate process, loopback)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (Debian package wrk): run `make bench`")
    cmd = [wrk, "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} error responses from {url}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def peak_rss_mib_of_children() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


# --- the workstation client's benchmarks (registration, transfer) ---------------------------

PROJECT_ID = "corebo00000000000ng9hgl5vhtinhmo"


def recording_name(n: int) -> str:
    """A file name as the recorders write them: time, Naumen session id, project id (every
    tenth without one, as on sites whose recorder leaves it out), so the client's parse does
    its real work, lookahead included."""
    session = f"node_0_domain_0_nauss_0_{1629126106 + n}_{172352 + n % 800000}"
    # Today's date: the files are made now, and the client believes a name's date only
    # within a day of the file's (it would otherwise warn about every one).
    stamp = f"{datetime.date.today():%Y-%m-%d}_{n // 3600 % 24:02d}-{n // 60 % 60:02d}-{n % 60:02d}"
    return f"{stamp}_{session}.mp4" if n % 10 == 9 else f"{stamp}_{session}_{PROJECT_ID}.mp4"


def named_hashes(recordings: list) -> list:
    """The client's recordings, each with a SHA-256 of its name as its content hash: what the
    benchmarks use where reading the file for its hash is not what they measure."""
    return [
        dataclasses.replace(r, content_hash=hashlib.sha256(r.name.encode()).hexdigest())
        for r in recordings
    ]


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A directory under /tmp, removed afterwards whatever happened. 0755: sshd's user (and
    nginx's) must be able to walk into it."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def zone_fresh(env: dict[str, str], **fields: object) -> int:
    """Create the zone ``fields["name"]`` with zone_create (a real key, validated fields) in
    the benchmark database, replacing the one a previous run left there with its VIDEO rows:
    the databases outlive a run, the scratch paths and ports in the row do not. Returns its id.

    Run through manage.py, with the web settings and root: a benchmark may itself run with
    the client's settings and database user, which may not write CONFIG.
    """
    code = (
        "import json\n"
        "from client_agent.models import ClientDatabaseLogin, Workstation\n"
        "from storage.models import Video\n"
        "from zones.models import Zone\n"
        "from zones.services import zone_create\n"
        f"fields = json.loads({json.dumps(json.dumps(fields))})\n"
        "Video.objects.filter(zone__name=fields['name']).delete()\n"
        "Workstation.objects.filter(zone__name=fields['name']).delete()\n"
        # A login listed for the zone (bench/transfer.py lists its own) protects it.
        "ClientDatabaseLogin.objects.filter(zone__name=fields['name']).delete()\n"
        # Not decrypted: the row may hold secrets of another checkout's key (var/).
        "Zone.objects.filter(name=fields['name']).only('pk', 'name').delete()\n"
        "print(zone_create(**fields).pk)\n"
    )
    return int(manage("shell", "-c", code, env=env).split()[-1])


# --- kept databases (search_scale, dashboard) ---------------------------------------------

# What a kept database was filled with, written after its fill completed: a later run with
# other options (``--rows``), or a fill that was interrupted, is told apart from a database
# it can reuse, and the data is rebuilt instead of being added to (duplicate keys).
FILL_DDL = (
    "CREATE TABLE IF NOT EXISTS BENCH_FILL (NAME varchar(64) PRIMARY KEY, VALUE text NOT NULL)"
)


NO_FILL = "no complete fill recorded"


def fill_wanted(conn: MySQLdb.Connection, wanted: dict[str, object]) -> str | None:
    """Why the kept database must be refilled to hold ``wanted`` (None: it holds it)."""
    cur = conn.cursor()
    cur.execute(FILL_DDL)
    cur.execute("SELECT VALUE FROM BENCH_FILL WHERE NAME = 'fill'")
    row = cur.fetchone()
    if row is None:
        return NO_FILL
    held = json.loads(row[0])
    changed = [
        f"{key} {held.get(key)!r} -> {value!r}"
        for key, value in wanted.items()
        if held.get(key) != value
    ]
    return ", ".join(changed) or None


def fill_forget(conn: MySQLdb.Connection) -> None:
    """Before a fill starts: until ``fill_record``, the database holds no usable fill."""
    cur = conn.cursor()
    cur.execute(FILL_DDL)
    cur.execute("DELETE FROM BENCH_FILL WHERE NAME = 'fill'")


def fill_record(conn: MySQLdb.Connection, wanted: dict[str, object]) -> None:
    conn.cursor().execute(
        "REPLACE INTO BENCH_FILL (NAME, VALUE) VALUES ('fill', %s)", (json.dumps(wanted),)
    )


def session_cookie(username: str) -> str:
    """A signed-in session for ``username`` in the database Django is set up for: the
    Cookie header's session part."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    user = User.objects.get(username=username)
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def browser_cookies(base: str, *, session: str, path: str = "/") -> str:
    """The Cookie header a signed-in browser sends: its session and the CSRF cookie the
    first page (``path``) set. Without the latter every page would mint and set a new CSRF
    secret, work a browser's requests never cause."""
    from django.conf import settings

    request = urllib.request.Request(base + path, headers={"Cookie": session})
    with urllib.request.urlopen(request) as response:
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
    if settings.CSRF_COOKIE_NAME not in jar:
        raise SystemExit(f"{path} set no CSRF cookie: is the bench user signed in?")
    return f"{session}; {settings.CSRF_COOKIE_NAME}={jar[settings.CSRF_COOKIE_NAME].value}"


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


def kept_database_ready(database: str, *, refill: bool) -> dict[str, str]:
    """Claim the kept ``database`` for this run, empty it when asked (or when its zones were
    written with another key), migrate it and set Django up on it in this process: the first
    steps of every bench that keeps a filled database. Returns the environment for children."""
    database_claim(database)
    env = bench_env(database)
    if not refill and not zones_readable(env):
        print("the kept zones were written with another key (var/bench-field-key): refilling")
        refill = True
    database_create(database, fresh=refill)
    bench_prepare(env)
    os.environ.update(env)
    import django

    django.setup()
    return env
