"""One zone's work at a time, across hosts: a MariaDB named lock per zone and kind of work
(the purge, the integrity check), held by this database session and released by the server
if the process dies."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection

from zones.models import Zone


def zone_lock_name(*, kind: str, zone: Zone) -> str:
    """Named locks are server-wide: the database name keeps two installations on one server
    apart. MariaDB takes at most 64 characters."""
    return f"opvideo.{kind}.{connection.settings_dict['NAME']}.{zone.pk}"[-64:]


@contextlib.contextmanager
def zone_lock(*, kind: str, zone: Zone, busy: Exception) -> Iterator[None]:
    """Hold ``kind``'s lock of ``zone`` for the block; raise ``busy`` at once if another
    session holds it. Without MariaDB (``make run``'s SQLite, one process) there is none."""
    if connection.vendor != "mysql":
        yield
        return
    name = zone_lock_name(kind=kind, zone=zone)
    with connection.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK(%s, 0)", [name])
        (got,) = cursor.fetchone()
    if got != 1:
        raise busy
    try:
        yield
    finally:
        with contextlib.suppress(Exception), connection.cursor() as cursor:
            cursor.execute("SELECT RELEASE_LOCK(%s)", [name])
