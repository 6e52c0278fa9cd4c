"""Small helpers shared by tests that drive the project's own commands and servers."""

import os
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(*args: str, env: dict[str, str] | None = None, check: bool = True, timeout=120):
    """Run ``manage.py`` in a subprocess, as an operator would, and return the result."""
    result = subprocess.run(
        [PYTHON, str(REPO / "manage.py"), *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"manage.py {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def subprocess_db_env() -> dict[str, str]:
    """Environment for a subprocess that must use the test database, not the development
    one (its rows are visible only to tests marked ``django_db(transaction=True)``)."""
    from django.db import connection

    return {"DATABASE_URL": database_url(connection.settings_dict["NAME"])}


def database_url(name: str) -> str:
    """DATABASE_URL for another database on the same server, as the same user."""
    return os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"


def server_connect(database: str | None = None, **options):
    """A plain mysqlclient connection to the server DATABASE_URL names, as its user: for what
    a test does beside Django (another session, another database, raw SQL)."""
    import environ
    import MySQLdb

    cfg = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    args = {
        "host": cfg.get("HOST") or "127.0.0.1",
        "port": int(cfg.get("PORT") or 3306),
        "user": cfg.get("USER") or "root",
        "password": cfg.get("PASSWORD") or "",
        **options,
    }
    if database:
        args["database"] = database
    return MySQLdb.connect(**args)


def wait_until(condition, *, what: str, limit: float = 60.0) -> None:
    """Poll until ``condition()`` holds. The limit only keeps a broken run from hanging the
    suite; nothing is asserted about how long it took."""
    import time

    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def statements_running(*, database: str, containing: str) -> list[tuple[int, str]]:
    """(session id, SQL) of the statements other sessions on ``database`` are executing right
    now, filtered by a substring. A statement blocked on a row lock stays here until it gets
    the lock.

    MariaDB's PROCESSLIST, not INNODB_TRX: a transaction whose first statement is still
    waiting for its first lock is not listed there yet.
    """
    return [(session, info) for session, info in _sessions(database=database) if containing in info]


def session_alive(*, database: str, session: int) -> bool:
    return any(found == session for found, _info in _sessions(database=database, idle=True))


def _sessions(*, database: str, idle: bool = False) -> list[tuple[int, str]]:
    conn = server_connect()
    try:
        cursor = conn.cursor()
        cursor.execute(
            "SELECT ID, INFO, COMMAND FROM information_schema.PROCESSLIST "
            "WHERE DB = %s AND ID <> CONNECTION_ID()",
            [database],
        )
        return [
            (session, info or "")
            for session, info, command in cursor.fetchall()
            if idle or command == "Query"
        ]
    finally:
        conn.close()
