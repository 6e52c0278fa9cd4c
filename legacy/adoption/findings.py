"""What needs an admin's attention after (or before) adoption: one function per check.

Each check reads the database as it is and returns the findings it has (none when all is
well); nothing here changes anything. ``findings_list`` runs them in the order the report
shows them.
"""

# SQL here is assembled from quoted identifiers and this module's own constants.
# ruff: noqa: S608

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db.backends.base.base import BaseDatabaseWrapper

from zones.fields import FieldDecryptionError, decrypt_value, is_legacy_plaintext
from zones.validators import zone_name_validator

from .report import EXAMPLES, Finding, plural
from .rules import MAX_STORAGE_DAYS, PLACEHOLDER_SERVER, valid_int_sql
from .schema import DUPLICATES_TABLE
from .sql import fetch, quote, scalar

ROTATE_HINT = (
    "{n} zone keys are stored in plain text; run `manage.py rotate_field_keys` once the old "
    "clients are replaced"
)

ZoneRow = tuple  # (id, ZONE, RSA_KEY, SERVER)


def _zone_rows(connection: BaseDatabaseWrapper) -> list[ZoneRow]:
    return fetch(connection, "SELECT id, `ZONE`, `RSA_KEY`, `SERVER` FROM `CONFIG` ORDER BY id")


def keys_plaintext(zones: list[ZoneRow]) -> list[Finding]:
    n = sum(1 for _id, _name, key, _server in zones if key and is_legacy_plaintext(key))
    return [Finding(ROTATE_HINT.format(n=n))] if n else []


def keys_unreadable(zones: list[ZoneRow]) -> list[Finding]:
    unreadable = []
    for zone_id, _name, key, _server in zones:
        if not key or is_legacy_plaintext(key):
            continue
        try:
            decrypt_value(key)
        except (FieldDecryptionError, ImproperlyConfigured):
            unreadable.append(f"id={zone_id}")
    if not unreadable:
        return []
    return [
        Finding(
            "zone keys neither plain text nor readable with FIELD_ENCRYPTION_KEYS (the "
            f"application cannot load them): {len(unreadable)}",
            unreadable[:EXAMPLES],
        )
    ]


def keys_missing(zones: list[ZoneRow]) -> list[Finding]:
    # A placeholder zone has no key on purpose: it only holds videos whose zone was missing.
    empty = [
        f"id={zone_id}"
        for zone_id, _name, key, server in zones
        if not key and server != PLACEHOLDER_SERVER
    ]
    if not empty:
        return []
    return [Finding(f"{plural(len(empty), 'zone')} without an ssh key", empty[:EXAMPLES])]


def names_invalid(zones: list[ZoneRow]) -> list[Finding]:
    bad = []
    for zone_id, name, _key, _server in zones:
        try:
            zone_name_validator(name or "")
        except ValidationError:
            bad.append(f"id={zone_id} {name!r}")
    if not bad:
        return []
    return [
        Finding(
            "zone names the admin will not accept as they are (lower-case Latin letters, "
            f"digits, '-' and '_'): {len(bad)}",
            bad[:EXAMPLES],
        )
    ]


def placeholders_present(connection: BaseDatabaseWrapper) -> list[Finding]:
    placeholders = fetch(
        connection,
        "SELECT id, `ZONE` FROM `CONFIG` WHERE `SERVER` = %s ORDER BY id",
        [PLACEHOLDER_SERVER],
    )
    if not placeholders:
        return []
    return [
        Finding(
            f"disabled placeholder zones holding videos whose zone was missing: "
            f"{len(placeholders)}; fill in the real zone's settings, or move the videos",
            [f"id={i} {n!r}" for i, n in placeholders[:EXAMPLES]],
        )
    ]


def duplicates_kept(connection: BaseDatabaseWrapper) -> list[Finding]:
    if DUPLICATES_TABLE not in set(connection.introspection.table_names()):
        return []
    dup = quote(connection, DUPLICATES_TABLE)
    moved = scalar(connection, f"SELECT COUNT(*) FROM {dup}")
    if not moved:
        return []
    lost = fetch(
        connection,
        f"SELECT DISTINCT d.SESSIONID FROM {dup} d WHERE NOT EXISTS "
        "(SELECT 1 FROM `VIDEO` v WHERE v.SESSIONID = d.SESSIONID) ORDER BY 1",
    )
    text = (
        f"{plural(moved, 'duplicate VIDEO row')} kept in {DUPLICATES_TABLE} (same "
        "zone and file name as a row that stayed)"
    )
    if lost:
        text += f"; session ids found only there, so search does not find them: {len(lost)}"
    return [Finding(text, [repr(s) for (s,) in lost[:EXAMPLES]])]


def dates_zero(connection: BaseDatabaseWrapper) -> list[Finding]:
    zero = " OR ".join(f"{part}(RECORDING_DATE) = 0" for part in ("YEAR", "MONTH", "DAYOFMONTH"))
    n = scalar(connection, f"SELECT COUNT(*) FROM `VIDEO` WHERE {zero}")
    if not n:
        return []
    examples = fetch(
        connection, f"SELECT SESSIONID, FILE_NAME FROM `VIDEO` WHERE {zero} LIMIT {EXAMPLES}"
    )
    return [
        Finding(
            f"{plural(n, 'video')} with a zero RECORDING_DATE (unchanged; retention "
            "cannot date them)",
            [f"{s!r} {f!r}" for s, f in examples],
        )
    ]


def sessions_empty(connection: BaseDatabaseWrapper) -> list[Finding]:
    n = scalar(connection, "SELECT COUNT(*) FROM `VIDEO` WHERE TRIM(SESSIONID) = ''")
    if not n:
        return []
    examples = fetch(
        connection,
        f"SELECT ZONE_ID, FILE_NAME FROM `VIDEO` WHERE TRIM(SESSIONID) = '' LIMIT {EXAMPLES}",
    )
    return [
        Finding(
            f"{plural(n, 'video')} with an empty SESSIONID (unchanged; not findable by session id)",
            [f"ZONE_ID={z} {f!r}" for z, f in examples],
        )
    ]


def storage_days_zero(connection: BaseDatabaseWrapper) -> list[Finding]:
    days = quote(connection, "STORAGE_DAYS")
    valid = valid_int_sql(days, 0, MAX_STORAGE_DAYS)
    n = scalar(
        connection,
        f"SELECT COUNT(*) FROM `VIDEO` WHERE {days} IS NOT NULL AND "
        f"(CASE WHEN {valid} THEN CAST(TRIM({days}) AS UNSIGNED) = 0 ELSE 0 END)",
    )
    if not n:
        return []
    return [
        Finding(
            f"{plural(n, 'video')} with STORAGE_DAYS 0 (unchanged; check what the old "
            "system meant by it — as a number of days it makes them due for deletion)"
        )
    ]


def findings_list(connection: BaseDatabaseWrapper) -> list[Finding]:
    """Every check, in the report's order."""
    zones = _zone_rows(connection)
    out: list[Finding] = []
    for zone_check in (keys_plaintext, keys_unreadable, keys_missing, names_invalid):
        out += zone_check(zones)
    for check in (
        placeholders_present,
        duplicates_kept,
        dates_zero,
        sessions_empty,
        storage_days_zero,
    ):
        out += check(connection)
    return out
