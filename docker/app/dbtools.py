"""Database steps of the container entrypoint: wait until the database answers; migrate.

    python docker/app/dbtools.py wait [--timeout SECONDS]
    python docker/app/dbtools.py migrate [--lock-timeout SECONDS]

Both exit non-zero with one line on stderr saying what is wrong, so a service that cannot
start says why in ``docker service logs`` instead of in a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# The lock that lets only one web replica migrate at a time: on a first deploy the two
# replicas start together, and two concurrent `migrate` runs would race on the same tables.
MIGRATE_LOCK = "opvideo.migrate"


def _setup() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opvideo.settings")
    import django

    django.setup()


def wait(*, timeout: float) -> int:
    from django.db import OperationalError, connection

    deadline = time.monotonic() + timeout
    last_reason = None
    while True:
        try:
            connection.ensure_connection()
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except OperationalError as exc:
            reason = str(exc)
            if reason != last_reason:  # one line per new reason, not one per second
                print(f"waiting for the database: {reason}", file=sys.stderr, flush=True)
                last_reason = reason
            connection.close()
            if time.monotonic() >= deadline:
                print(
                    f"the database did not answer within {timeout:g}s: {reason}",
                    file=sys.stderr,
                )
                return 2
            time.sleep(1)
            continue
        connection.close()
        return 0


def migrate(*, lock_timeout: int) -> int:
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "mysql":  # SQLite (`make run`) has one process anyway
        call_command("migrate", interactive=False)
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK(%s, %s)", [MIGRATE_LOCK, lock_timeout])
        (got,) = cursor.fetchone()
    if got != 1:
        print(
            f"another replica held the migration lock for more than {lock_timeout}s",
            file=sys.stderr,
        )
        return 2
    try:
        # The lock belongs to this connection, and call_command runs on it (same thread).
        call_command("migrate", interactive=False)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT RELEASE_LOCK(%s)", [MIGRATE_LOCK])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p_wait = sub.add_parser("wait", help="wait until the database answers")
    p_wait.add_argument("--timeout", type=float, default=60)
    p_migrate = sub.add_parser("migrate", help="migrate, one replica at a time")
    p_migrate.add_argument("--lock-timeout", type=int, default=600)
    args = parser.parse_args(argv)
    try:
        _setup()
    except Exception as exc:  # settings refused the environment: say so in one line
        print(f"cannot load the settings: {exc}", file=sys.stderr)
        return 2
    if args.step == "wait":
        return wait(timeout=args.timeout)
    return migrate(lock_timeout=args.lock_timeout)


if __name__ == "__main__":
    sys.exit(main())
