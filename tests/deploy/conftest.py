"""Helpers for the deployment tests: scratch databases and the image's entrypoint, run on
this machine exactly as the container would run it (no Docker engine here)."""

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import environ
import pytest

from tests.helpers import REPO, database_url, server_connect

ENTRYPOINT = REPO / "docker" / "app" / "entrypoint.sh"
VENV_BIN = Path(sys.executable).parent


def database_tables(name: str) -> set[str]:
    conn = server_connect(name)
    try:
        cur = conn.cursor()
        cur.execute("SHOW TABLES")
        return {row[0] for row in cur.fetchall()}
    finally:
        conn.close()


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """An empty database of its own (not pytest-django's), dropped afterwards."""
    base = environ.Env.db_url_config(os.environ["DATABASE_URL"])["NAME"]
    name = f"{base}_deploy_{secrets.token_hex(4)}"
    conn = server_connect()
    try:
        conn.cursor().execute(
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
        yield name
    finally:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


@pytest.fixture
def fresh_database() -> Iterator[str]:
    with scratch_database() as name:
        yield name


@pytest.fixture(scope="module")
def migrated_database() -> Iterator[str]:
    """A scratch database migrated by the entrypoint's own migrate step."""
    with scratch_database() as name:
        result = subprocess.run(
            [sys.executable, str(REPO / "docker" / "app" / "dbtools.py"), "migrate"],
            env={**entrypoint_env(), "DATABASE_URL": database_url(name)},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        yield name


def entrypoint_env(**overrides: str) -> dict[str, str]:
    """The environment a container of the image would get, pointed at this checkout."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "DJANGO_SETTINGS_MODULE"))
    }
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        APP_DIR=str(REPO),
        PYTHON=sys.executable,
        LOG_LEVEL="INFO",
        DATABASE_WAIT_TIMEOUT="30",
    )
    env.update(overrides)
    return env


@dataclass
class Running:
    proc: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"exited with {self.proc.returncode} before printing {text!r}:\n"
                    + self.output()
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not printed in {timeout}s:\n" + self.output())
            time.sleep(0.2)


@contextlib.contextmanager
def entrypoint(*args: str, env: dict[str, str], log: Path) -> Iterator[Running]:
    """Run ``entrypoint.sh ARGS`` in its own process group; stop the whole group after."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(ENTRYPOINT), *args],
            cwd="/",  # the script must find the app through APP_DIR, not the caller's cwd
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield Running(proc=proc, log=log)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
