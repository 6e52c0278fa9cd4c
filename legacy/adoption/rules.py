"""How the old clients' values are cleaned so the new column types accept them.

Each rule is SQL that works whether a column is still text or already an integer, so the same
rule both counts what is to be done (for the plan) and does it (for the step), and finds
nothing more to do once it has run. Nothing the old clients wrote is deleted: bad numbers
become the column's default, repeated zone names get the zone's id, videos of a missing zone
get a placeholder zone, duplicate rows are moved aside.
"""

# SQL here is assembled from quoted identifiers and this module's own constants; every value
# read from the database goes as a query parameter.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from .report import EXAMPLES, show
from .schema import CONFIG, VIDEO
from .sql import execute, fetch, quote

# The seed README's example value: what the old clients would most likely have used.
DEFAULT_SPEED_KBPS = 3000
MAX_SPEED_KBPS = 99_999
MAX_PORT = 65_535
MAX_STORAGE_DAYS = 65_535  # smallint unsigned: every value the new column can hold is kept

PLACEHOLDER_SERVER = "orphan.invalid"  # .invalid never resolves (RFC 2606)
PLACEHOLDER_PATH = "/nonexistent"
ZONE_NAME_MAX = 20

# Compared the way the new unique index compares: byte for byte (utf8mb4_bin), because file
# names on Linux are case-sensitive.
FILE_KEY = "CONVERT(FILE_NAME USING utf8mb4) COLLATE utf8mb4_bin"
SESSION_KEY = "CONVERT(SESSIONID USING utf8mb4) COLLATE utf8mb4_bin"


def valid_int_sql(column: str, low: int, high: int) -> str:
    """A boolean: the value is a plain decimal number within [low, high].

    The CASE keeps CAST away from non-numbers: in strict mode a bad CAST inside an UPDATE is
    an error, not a warning.
    """
    digits = len(str(high))
    trimmed = f"TRIM({column})"
    return (
        f"(CASE WHEN {trimmed} REGEXP '^[0-9]{{1,{digits}}}$' "
        f"THEN CAST({trimmed} AS UNSIGNED) BETWEEN {low} AND {high} ELSE 0 END)"
    )


def noncanonical_int_sql(column: str, low: int, high: int) -> str:
    """A boolean: a valid number written with spaces or leading zeros (' 500', '030')."""
    return (
        f"(CASE WHEN {valid_int_sql(column, low, high)} THEN CAST({column} AS CHAR) <> "
        f"CAST(CAST(TRIM({column}) AS UNSIGNED) AS CHAR) ELSE 0 END)"
    )


@dataclass(frozen=True)
class IntRule:
    table: str
    column: str
    low: int
    high: int
    replacement: int | None  # None → NULL
    key_sql: str  # how an example row is named in the report
    meaning: str


SPEED_RULE = IntRule(
    table=CONFIG,
    column="SPEED",
    low=1,
    high=MAX_SPEED_KBPS,
    replacement=DEFAULT_SPEED_KBPS,
    key_sql="CONCAT('id=', id)",
    meaning=f"not a positive integer ≤ {MAX_SPEED_KBPS}",
)
PUBLIC_PORT_RULE = IntRule(
    table=CONFIG,
    column="PUBLIC_PORT",
    low=1,
    high=MAX_PORT,
    replacement=None,
    key_sql="CONCAT('id=', id)",
    meaning=f"empty, not a number or outside 1..{MAX_PORT}",
)
STORAGE_DAYS_RULE = IntRule(
    table=VIDEO,
    column="STORAGE_DAYS",
    low=0,
    high=MAX_STORAGE_DAYS,
    replacement=None,
    key_sql="SESSIONID",
    meaning="empty, not a number, negative or too large",
)


def int_rule_counts(connection: BaseDatabaseWrapper, rule: IntRule) -> tuple[int, int, list]:
    """(invalid values, values to normalise, examples of invalid values)."""
    col = quote(connection, rule.column)
    table = quote(connection, rule.table)
    valid = valid_int_sql(col, rule.low, rule.high)
    noncanonical = noncanonical_int_sql(col, rule.low, rule.high)
    bad, noncanonical = fetch(
        connection,
        f"SELECT COALESCE(SUM(NOT {valid}), 0), COALESCE(SUM({noncanonical}), 0) "
        f"FROM {table} WHERE {col} IS NOT NULL",
    )[0]
    examples = []
    if bad:
        examples = fetch(
            connection,
            f"SELECT {rule.key_sql}, {col} FROM {table} WHERE {col} IS NOT NULL AND NOT {valid} "
            f"LIMIT {EXAMPLES}",
        )
    return int(bad), int(noncanonical), [f"{show(k)}: {show(v)}" for k, v in examples]


def int_rule_apply(connection: BaseDatabaseWrapper, rule: IntRule) -> int:
    col = quote(connection, rule.column)
    valid = valid_int_sql(col, rule.low, rule.high)
    replacement = "NULL" if rule.replacement is None else f"'{int(rule.replacement)}'"
    with transaction.atomic(using=connection.alias):
        return execute(
            connection,
            f"UPDATE {quote(connection, rule.table)} SET {col} = CASE WHEN {valid} "
            f"THEN CAST(CAST(TRIM({col}) AS UNSIGNED) AS CHAR) ELSE {replacement} END "
            f"WHERE {col} IS NOT NULL AND (NOT {valid} OR "
            f"{noncanonical_int_sql(col, rule.low, rule.high)})",
        )


def zone_clashes(connection: BaseDatabaseWrapper, collation: str) -> list[tuple[int, str, int]]:
    """Zones whose name an earlier zone already has: (id, name, id of the earlier zone).

    Names are compared trimmed and case-insensitively, and also the way the unique index will
    compare them (the target collation), so the index can always be created afterwards.
    """

    def key(alias: str) -> str:
        return f"CONVERT(TRIM({alias}.`ZONE`) USING utf8mb4) COLLATE {collation}"

    return [
        (int(i), name, int(first))
        for i, name, first in fetch(
            connection,
            "SELECT a.id, a.`ZONE`, MIN(b.id) FROM `CONFIG` a JOIN `CONFIG` b ON b.id < a.id "
            f"AND (LOWER({key('a')}) = LOWER({key('b')}) OR {key('a')} = {key('b')}) "
            "GROUP BY a.id, a.`ZONE` ORDER BY a.id",
        )
    ]


def zone_renamed(name: str, zone_id: int) -> str:
    """A repeated zone name made unique with the zone's id, within the column's 20 characters."""
    suffix = f"-{zone_id}"
    return (name.strip() or "zone")[: ZONE_NAME_MAX - len(suffix)] + suffix


def placeholder_name(zone_id: int) -> str:
    return f"orphan-{zone_id}"


def orphans(connection: BaseDatabaseWrapper) -> list[tuple[int, int]]:
    """(ZONE_ID, number of videos) for videos whose zone has no CONFIG row."""
    return [
        (int(z), int(n))
        for z, n in fetch(
            connection,
            "SELECT v.ZONE_ID, COUNT(*) FROM `VIDEO` v LEFT JOIN `CONFIG` c ON c.id = v.ZONE_ID "
            "WHERE c.id IS NULL GROUP BY v.ZONE_ID ORDER BY v.ZONE_ID",
        )
    ]


def video_duplicates(connection: BaseDatabaseWrapper) -> tuple[int, int, list[str]]:
    """(groups, surplus rows, groups whose rows name different session ids), as the
    (ZONE_ID, FILE_NAME) unique index will compare them."""
    groups, surplus = fetch(
        connection,
        "SELECT COUNT(*), COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) n FROM `VIDEO` "
        f"GROUP BY ZONE_ID, {FILE_KEY} HAVING n > 1) g",
    )[0]
    conflicts = fetch(
        connection,
        f"SELECT ZONE_ID, MIN(FILE_NAME), GROUP_CONCAT(DISTINCT {SESSION_KEY} SEPARATOR ', ') "
        f"FROM `VIDEO` GROUP BY ZONE_ID, {FILE_KEY} "
        f"HAVING COUNT(*) > 1 AND COUNT(DISTINCT {SESSION_KEY}) > 1 LIMIT {EXAMPLES}",
    )
    return (
        int(groups),
        int(surplus),
        [f"ZONE_ID={z} {name!r}: {sessions}" for z, name, sessions in conflicts],
    )
