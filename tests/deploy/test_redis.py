"""The stack's Redis requires the password of its Swarm secret (finding 8): a real
redis-server started by docker/redis/redis.sh, as the stack starts it, refuses a client
without the password; the password is on no command line, in no file and no log; Celery
(the worker's entrypoint, the image's healthcheck) gets in with the secret alone. And the
stack file: Redis on its internal network only, no port, every client with the secret."""

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from celery import Celery

from tests.deploy.conftest import database_url, entrypoint, entrypoint_env
from tests.deploy.stack import STACK_FILE, load_yaml, zones_in
from tests.helpers import PYTHON, REPO, free_port

REDIS_SH = REPO / "docker" / "redis" / "redis.sh"
HEALTHCHECK = REPO / "docker" / "app" / "healthcheck.py"


@dataclass
class RedisServer:
    port: int
    password: str
    secret: Path
    proc: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        """The URL as the settings file has it: without the password."""
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, password: str | None = None) -> redis.Redis:
        return redis.Redis(port=self.port, password=password, socket_timeout=5)


def secret_file(path: Path, password: str) -> Path:
    # As `openssl rand -hex 32 | docker secret create ... -` leaves it: a newline at the end.
    path.write_text(password + "\n")
    path.chmod(0o600)
    return path


def redis_sh(*args: str, env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [str(REDIS_SH), *args],
        env={"PATH": os.environ["PATH"], **env},
        start_new_session=True,
        **kwargs,
    )


@contextlib.contextmanager
def redis_with_password(workdir: Path) -> Iterator[RedisServer]:
    """redis.sh as the stack runs it, on a free loopback port, keeping nothing on disk."""
    # URL metacharacters in it: it must reach Redis as it is, whatever the URL's syntax.
    password = f"p@ss/w:rd%+?#{secrets.token_hex(16)}"
    secret = secret_file(workdir / "redis_password", password)
    port = free_port()
    log = workdir / "redis.log"
    with log.open("w") as out:
        proc = redis_sh(
            *("--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir)),
            *("--save", "", "--appendonly", "no"),
            env={"REDIS_PASSWORD_FILE": str(secret)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = RedisServer(port=port, password=password, secret=secret, proc=proc, log=log)
    try:
        deadline = time.monotonic() + 20
        while "Ready to accept connections" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def server(tmp_path) -> Iterator[RedisServer]:
    with redis_with_password(tmp_path) as running:
        yield running


# --- the server --------------------------------------------------------------------------------


def test_redis_refuses_a_client_without_the_right_password(server):
    # (redis-py opens with HELLO, which Redis refuses before authentication.)
    with pytest.raises(redis.exceptions.AuthenticationError, match="authenticated"):
        server.client().ping()
    with pytest.raises(redis.exceptions.AuthenticationError, match="invalid username-password"):
        server.client(password=server.password[:-1]).ping()
    # Nothing was let through before the refusal.
    with pytest.raises(redis.exceptions.AuthenticationError):
        server.client().lpush("zone.kursk", "a purge")
    assert server.client(password=server.password).llen("zone.kursk") == 0


def test_with_the_password_the_broker_works_but_cannot_be_wiped_or_reconfigured(server):
    client = server.client(password=server.password)
    assert client.ping() is True
    client.lpush("zone.kursk", "a purge")
    assert client.rpop("zone.kursk") == b"a purge"
    # What a broken-into storage server could otherwise do to every zone's queue.
    for wreck in (
        client.flushall,
        client.flushdb,
        lambda: client.keys("*"),
        lambda: client.config_get("requirepass"),
        lambda: client.config_set("appendonly", "no"),
        lambda: client.acl_list(),
        lambda: client.execute_command("SHUTDOWN", "NOSAVE"),
        lambda: client.execute_command("MONITOR"),
    ):
        with pytest.raises(redis.exceptions.NoPermissionError):
            wreck()
    assert client.ping() is True


def test_the_password_is_on_no_command_line_in_no_file_and_in_no_log(server, tmp_path):
    # The entry script exec'd redis-server: the process it started is the server.
    cmdline = Path(f"/proc/{server.proc.pid}/cmdline").read_bytes()
    assert b"redis-server" in cmdline
    environ = Path(f"/proc/{server.proc.pid}/environ").read_bytes()
    for text in (cmdline, environ, server.log.read_bytes()):
        assert server.password.encode() not in text
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != server.secret:
            assert server.password.encode() not in path.read_bytes(), path


def run_ping(server: RedisServer, secret: Path, port: int | None = None):
    proc = redis_sh(
        "ping",
        env={"REDIS_PASSWORD_FILE": str(secret), "REDIS_PORT": str(port or server.port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out, _ = proc.communicate(timeout=30)
    return proc.returncode, out


def test_the_healthcheck_says_pong_only_with_the_password(server, tmp_path):
    assert run_ping(server, server.secret) == (0, "PONG\n")
    wrong = secret_file(tmp_path / "wrong", secrets.token_hex(16))
    code, out = run_ping(server, wrong)
    assert code == 1
    assert "PONG" not in out
    # No server: unhealthy too.
    assert run_ping(server, server.secret, port=free_port())[0] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the password file"),
        ("short", "shorter than 16 characters"),
        ("two words in a long password", "contains white space"),
    ],
)
def test_redis_does_not_start_without_a_proper_password(content, message, tmp_path):
    secret = tmp_path / "redis_password"
    if content is not None:
        secret_file(secret, content)
    port = free_port()
    proc = redis_sh(
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        env={"REDIS_PASSWORD_FILE": str(secret)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert message in out
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


# --- the clients -------------------------------------------------------------------------------


def celery_sees(**env: str) -> subprocess.CompletedProcess:
    """The broker URL and password of the project's Celery app, in a fresh interpreter."""
    code = (
        "import django; django.setup()\n"
        "from opvideo.celery import app\n"
        "conn = app.connection_for_write()\n"
        "print(conn.hostname, conn.port, conn.password)\n"
    )
    return subprocess.run(
        [PYTHON, "-c", code],
        cwd=REPO,
        env={**entrypoint_env(), "DJANGO_SETTINGS_MODULE": "opvideo.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_celery_gets_the_password_from_the_secret_file_beside_the_url(tmp_path):
    password = "s3cret/with@signs#and?more"
    secret = secret_file(tmp_path / "redis_password", password)
    # As in the stack: the URL in the environment (from the settings file), which Celery
    # itself prefers to the settings module's.
    result = celery_sees(CELERY_BROKER_URL="redis://redis:6379/0", REDIS_PASSWORD_FILE=str(secret))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["redis", "6379", password]

    twice = celery_sees(
        CELERY_BROKER_URL="redis://:other@redis:6379/0", REDIS_PASSWORD_FILE=str(secret)
    )
    assert twice.returncode != 0
    assert "give the password once" in twice.stderr
    assert password not in twice.stderr


def healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_a_worker_with_the_secret_consumes_and_one_without_it_is_refused(
    server, fresh_database, tmp_path
):
    zone = f"r{secrets.token_hex(4)}"
    env = entrypoint_env(
        DATABASE_URL=database_url(fresh_database),
        OPVIDEO_ZONE=zone,
        DJANGO_SECRET_KEY="",
        DJANGO_SECRET_KEY_FILE="",
        # As in the stack: the URL of the settings file, the password from the secret.
        CELERY_BROKER_URL=server.url,
        REDIS_PASSWORD_FILE=str(server.secret),
    )
    client = Celery("redis-test")
    client.conf.broker_password = server.password
    try:
        with entrypoint("worker", env=env, log=tmp_path / "worker.log") as worker:
            worker.wait_for_output(" ready.")
            # This server explicitly: this process's CELERY_BROKER_URL names the tests' Redis.
            with client.connection_for_write(server.url) as connection:
                sent = client.send_task(
                    "celery.accumulate", args=[1, 2], queue=f"zone.{zone}", connection=connection
                )
            worker.wait_for_output(f"Task celery.accumulate[{sent.id}] succeeded")
            assert server.client(password=server.password).llen(f"zone.{zone}") == 0

            check = healthcheck(env)
            assert check.returncode == 0, check.stdout + check.stderr
            wrong = secret_file(tmp_path / "wrong", secrets.token_hex(16))
            refused = healthcheck({**env, "REDIS_PASSWORD_FILE": str(wrong)})
            assert refused.returncode == 1
            assert "broker unreachable" in refused.stdout
            assert server.password not in worker.output()

        without = {**env, "REDIS_PASSWORD_FILE": ""}
        with entrypoint("worker", env=without, log=tmp_path / "without.log") as worker:
            worker.wait_for_output("Authentication required")
            assert " ready." not in worker.output()
    finally:
        client.close()


# --- the stack file ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack() -> dict:
    return load_yaml(STACK_FILE)


def redis_clients(stack: dict) -> list[str]:
    """The services of the application image (web, beat, directory, every zone's worker)."""
    return [n for n, s in stack["services"].items() if "/app:" in s["image"]]


def test_redis_is_only_on_the_internal_network_and_publishes_no_port(stack):
    service = stack["services"]["redis"]
    assert "ports" not in service
    assert service["networks"] == ["broker"]
    broker = stack["networks"]["broker"]
    assert broker["driver"] == "overlay"
    assert broker["internal"] is True
    assert not broker.get("attachable", False)
    on_broker = {n for n, s in stack["services"].items() if "broker" in s.get("networks", [])}
    assert on_broker == {"redis", "web", "beat", "directory"} | {f"rm_{z}" for z in zones_in(stack)}


def test_redis_starts_from_the_script_with_the_secret_as_its_own_user(stack):
    service = stack["services"]["redis"]
    assert not service["user"].startswith("0")
    [config] = service["configs"]
    assert service["entrypoint"] == [config["target"]]
    assert service["healthcheck"]["test"] == ["CMD", config["target"], "ping"]
    declared = stack["configs"][config["source"]]
    assert declared["file"] == "./docker/redis/redis.sh"
    # A Swarm config never changes: a changed script must come under a new name.
    digest = subprocess.run(
        ["sha256sum", str(REDIS_SH)], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    assert declared["name"] == f"opvideo_redis_sh_{digest[:12]}", "rename the config"
    assert service["environment"]["REDIS_PASSWORD_FILE"] == "/run/secrets/redis_password"
    assert [s["source"] for s in service["secrets"]] == ["redis_password"]
    assert stack["secrets"]["redis_password"] == {
        "external": True,
        "name": "opvideo_redis_password",
    }


def test_every_client_of_redis_has_the_secret_and_nothing_has_the_password(stack):
    clients = redis_clients(stack)
    assert {"web", "beat"} < set(clients)
    for name in clients:
        service = stack["services"][name]
        assert service["environment"]["REDIS_PASSWORD_FILE"] == "/run/secrets/redis_password"
        assert "redis_password" in {s["target"] for s in service["secrets"]}, name
    for name, service in stack["services"].items():
        if name.startswith("nginx_"):
            assert "redis_password" not in {s["source"] for s in service["secrets"]}
    text = STACK_FILE.read_text()
    assert "requirepass" not in text
    assert "REDIS_PASSWORD:" not in text
    assert "redis://" not in text  # the URL, without a password, is in the settings file
