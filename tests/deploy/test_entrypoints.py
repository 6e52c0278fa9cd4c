"""The application image's entrypoint, run directly on this machine against MariaDB and
Redis: the web role migrates and answers HTTP, a worker consumes exactly its zone's queue,
beat starts with the database scheduler, and nothing but the web touches the schema."""

import http.client
import importlib.util
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery import Celery

from tests.deploy.conftest import (
    REPO,
    database_tables,
    database_url,
    entrypoint,
    entrypoint_env,
)
from tests.helpers import free_port

pytestmark = pytest.mark.slow

ALLOWED_HOST = "opvideo.example.ru"
HEALTHCHECK = REPO / "docker" / "app" / "healthcheck.py"


def role_of_process(pid: int) -> str:
    """What the image's healthcheck would take this process for, were it PID 1."""
    spec = importlib.util.spec_from_file_location("opvideo_healthcheck", HEALTHCHECK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.role_of(Path(f"/proc/{pid}/cmdline").read_bytes())


def http_get(port: int, path: str, *, https_proxy: bool = True) -> tuple[int, dict, bytes]:
    """A request as the site's TLS proxy would forward it (or, without it, a plain one)."""
    headers = {"Host": ALLOWED_HOST}
    if https_proxy:
        headers["X-Forwarded-Proto"] = "https"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def wait_http(port: int, running, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert running.proc.poll() is None, running.output()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert time.monotonic() < deadline, "gunicorn did not listen:\n" + running.output()
            time.sleep(0.3)


def healthcheck(role: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), role],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def web_env(db_name: str, port: int, **extra: str) -> dict[str, str]:
    # Production security settings on: host checking, https redirect, secure cookies.
    return entrypoint_env(
        DATABASE_URL=database_url(db_name),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        DJANGO_ALLOWED_HOSTS=ALLOWED_HOST,
        DJANGO_SECURE_SSL_REDIRECT="true",
        DJANGO_SECURE_COOKIES="true",
        DJANGO_BEHIND_TLS_PROXY="true",
        **extra,
    )


def test_web_migrates_serves_pages_and_static_files(fresh_database, tmp_path):
    # The image runs collectstatic at build time; do the same step into a scratch root.
    static_root = tmp_path / "static"
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=REPO,
        env=entrypoint_env(
            DJANGO_SECRET_KEY="collectstatic-only", DJANGO_STATIC_ROOT=str(static_root)
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert collect.returncode == 0, collect.stderr
    assert database_tables(fresh_database) == set()

    port = free_port()
    env = web_env(fresh_database, port, DJANGO_STATIC_ROOT=str(static_root))
    with entrypoint("web", env=env, log=tmp_path / "web.log") as web:
        wait_http(port, web)
        web.wait_for_output("Booting worker")

        # Only now, with the schema in place, did gunicorn start.
        tables = database_tables(fresh_database)
        assert {"CONFIG", "VIDEO", "django_migrations", "django_celery_beat_periodictask"} <= (
            tables
        )

        status, _, body = http_get(port, "/healthz/")
        assert (status, body) == (200, b"ok\n")
        status, _, body = http_get(port, "/login/")
        assert status == 200
        assert b'name="username"' in body
        # Static files come from whitenoise inside gunicorn, compressed, cached for long.
        status, headers, body = http_get(port, "/static/search/site.css")
        assert status == 200
        assert body == (REPO / "search" / "static" / "search" / "site.css").read_bytes()

        # Production settings really are on: plain http is redirected, unknown hosts refused.
        status, headers, _ = http_get(port, "/login/", https_proxy=False)
        assert status == 301
        assert headers["Location"].startswith("https://")

        # The entrypoint exec'd gunicorn (so it gets the signals), which the check recognises.
        assert role_of_process(web.proc.pid) == "web"
        # The image's healthcheck passes with those settings.
        check = healthcheck("web", env)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "200" in check.stdout
    # Stopped: the healthcheck now fails, saying why.
    check = healthcheck("web", env)
    assert check.returncode == 1
    assert "no answer" in check.stdout


def test_two_web_replicas_starting_together_migrate_once(fresh_database):
    # A first deploy starts both replicas at once: the migration lock serialises them.
    env = entrypoint_env(DATABASE_URL=database_url(fresh_database))
    cmd = [sys.executable, str(REPO / "docker" / "app" / "dbtools.py"), "migrate"]
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    # One did the work; the other found nothing left to apply.
    assert sum("No migrations to apply." in out for out in outputs) == 1, outputs


def _broker_url() -> str:
    return os.environ["CELERY_BROKER_URL"]


def test_worker_consumes_its_zone_queue_only_and_never_migrates(fresh_database, tmp_path):
    zone = f"w{secrets.token_hex(4)}"
    other = f"{zone}-other"
    env = entrypoint_env(
        DATABASE_URL=database_url(fresh_database),
        OPVIDEO_ZONE=zone,
        # A worker gets no secret key of the web: the entrypoint makes one up.
        DJANGO_SECRET_KEY="",
        DJANGO_SECRET_KEY_FILE="",
    )
    client = Celery("deploy-test", broker=_broker_url())
    store = redis.Redis.from_url(_broker_url())
    try:
        with entrypoint("worker", env=env, log=tmp_path / "worker.log") as worker:
            worker.wait_for_output(" ready.")

            queues = client.control.inspect(
                destination=[f"{zone}@{socket.gethostname()}"]
            ).active_queues()
            assert queues, worker.output()
            [(node, bound)] = queues.items()
            assert node == f"{zone}@{socket.gethostname()}"
            assert [q["name"] for q in bound] == [f"zone.{zone}"]

            mine = client.send_task("celery.accumulate", args=[1, 2], queue=f"zone.{zone}")
            client.send_task("celery.accumulate", args=[3], queue=f"zone.{other}")
            worker.wait_for_output(f"Task celery.accumulate[{mine.id}] succeeded")
            assert store.llen(f"zone.{zone}") == 0
            # Another zone's purge stays for that zone's worker.
            assert store.llen(f"zone.{other}") == 1

            assert role_of_process(worker.proc.pid) == "worker"
            # The tasks refuse any other zone's purge: the worker knows its zone from here.
            environ = Path(f"/proc/{worker.proc.pid}/environ").read_bytes().split(b"\0")
            assert f"OPVIDEO_WORKER_ZONE={zone}".encode() in environ
            assert healthcheck("worker", env).returncode == 0
            other_env = {**env, "OPVIDEO_ZONE": other}
            unhealthy = healthcheck("worker", other_env)
            assert unhealthy.returncode == 1
            assert "no answer" in unhealthy.stdout

            # The worker started against an empty database and left it empty.
            assert database_tables(fresh_database) == set()
    finally:
        store.delete(f"zone.{zone}", f"zone.{other}")
        client.close()


@pytest.mark.parametrize(
    ("zone", "message"),
    [("", "OPVIDEO_ZONE is not set"), ("kursk;reboot", "is not a zone name")],
)
def test_worker_refuses_to_start_without_a_proper_zone(zone, message, tmp_path):
    env = entrypoint_env(OPVIDEO_ZONE=zone)
    with entrypoint("worker", env=env, log=tmp_path / "worker.log") as worker:
        assert worker.proc.wait(timeout=30) == 2
        assert message in worker.output()


def test_beat_sends_what_the_database_schedules_to_the_zone_queue(migrated_database, tmp_path):
    zone = f"b{secrets.token_hex(4)}"
    env = entrypoint_env(
        DATABASE_URL=database_url(migrated_database),
        DJANGO_SECRET_KEY="",
        DJANGO_SECRET_KEY_FILE="",
    )
    # A schedule entry as the admin stores it: every second, onto the zone's queue.
    schedule = (
        "from django_celery_beat.models import IntervalSchedule, PeriodicTask\n"
        "every, _ = IntervalSchedule.objects.get_or_create(every=1, period='seconds')\n"
        f"PeriodicTask.objects.create(name='deploy-test {zone}', task='celery.accumulate',"
        f" interval=every, queue='zone.{zone}')\n"
    )
    admin_env = entrypoint_env(DATABASE_URL=database_url(migrated_database))
    with entrypoint(
        "manage", "shell", "-c", schedule, env=admin_env, log=tmp_path / "m.log"
    ) as run:
        assert run.proc.wait(timeout=120) == 0, run.output()

    store = redis.Redis.from_url(_broker_url())
    try:
        with entrypoint("beat", env=env, log=tmp_path / "beat.log") as beat:
            beat.wait_for_output("beat: Starting...")
            assert "django_celery_beat.schedulers.DatabaseScheduler" in beat.output()
            assert role_of_process(beat.proc.pid) == "beat"
            deadline = time.monotonic() + 30
            while store.llen(f"zone.{zone}") == 0:
                assert beat.proc.poll() is None, beat.output()
                assert time.monotonic() < deadline, "nothing sent:\n" + beat.output()
                time.sleep(0.5)
            assert "Sending due task deploy-test" in beat.output()
    finally:
        store.delete(f"zone.{zone}")


def test_manage_runs_one_off_commands(migrated_database, tmp_path):
    # As `docker run --env-file opvideo.env ... manage ...` runs it: no secret key given.
    env = entrypoint_env(
        DATABASE_URL=database_url(migrated_database),
        DJANGO_SECRET_KEY="",
        DJANGO_SECRET_KEY_FILE="",
    )
    with entrypoint("manage", "showmigrations", "zones", env=env, log=tmp_path / "m.log") as run:
        assert run.proc.wait(timeout=120) == 0, run.output()
        assert "[X] 0001_initial" in run.output()


def test_web_waits_for_the_database_then_says_it_is_not_there(tmp_path):
    dead = free_port()  # nothing listens there
    env = entrypoint_env(
        DATABASE_URL=f"mysql://root@127.0.0.1:{dead}/opvideo", DATABASE_WAIT_TIMEOUT="3"
    )
    started = time.monotonic()
    with entrypoint("web", env=env, log=tmp_path / "web.log") as web:
        assert web.proc.wait(timeout=60) == 2
    assert time.monotonic() - started >= 3
    out = web.output()
    assert "waiting for the database" in out
    assert "the database did not answer within 3s" in out
    assert "Traceback" not in out


def test_directory_worker_consumes_the_directory_queue_only(migrated_database, tmp_path):
    node = f"directory-{secrets.token_hex(3)}"
    env = entrypoint_env(
        DATABASE_URL=database_url(migrated_database),
        OPVIDEO_WORKER_NODE=node,
        DJANGO_SECRET_KEY="",
        DJANGO_SECRET_KEY_FILE="",
    )
    client = Celery("deploy-test", broker=_broker_url())
    try:
        with entrypoint("directory", env=env, log=tmp_path / "directory.log") as worker:
            worker.wait_for_output(" ready.")
            queues = client.control.inspect(
                destination=[f"{node}@{socket.gethostname()}"]
            ).active_queues()
            assert queues, worker.output()
            [bound] = queues.values()
            assert [q["name"] for q in bound] == ["directory"]
            assert role_of_process(worker.proc.pid) == "worker"
            assert healthcheck("worker", env).returncode == 0
    finally:
        client.close()
