"""The value rules, run by the real MariaDB (in strict mode, as the site's server is) on a
temporary table holding what the old clients wrote into a text column."""

# The SQL in here is built from this file's constants only.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import replace

import pytest
from django.db import connection

from legacy.adoption.rules import (
    SPEED_RULE,
    STORAGE_DAYS_RULE,
    ZONE_NAME_MAX,
    int_rule_apply,
    int_rule_counts,
    noncanonical_int_sql,
    valid_int_sql,
    zone_renamed,
)

pytestmark = pytest.mark.django_db

PROBE = "adopt_rule_probe"


@pytest.fixture
def probe():
    """A temporary table (this session only) with an id and an old text column V."""

    def fill(values: list[str | None]) -> None:
        with connection.cursor() as cur:
            cur.execute(f"CREATE TEMPORARY TABLE {PROBE} (id int PRIMARY KEY, V varchar(10) NULL)")
            for i, value in enumerate(values, start=1):
                cur.execute(f"INSERT INTO {PROBE} VALUES (%s, %s)", [i, value])

    yield fill
    with connection.cursor() as cur:
        cur.execute(f"DROP TEMPORARY TABLE IF EXISTS {PROBE}")


def column(rows: str = "V") -> list:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {rows} FROM {PROBE} ORDER BY id")
        return [row if len(row) > 1 else row[0] for row in cur.fetchall()]


# (value, valid as STORAGE_DAYS 0..65535, written with spaces or leading zeros)
DAYS = [
    ("30", 1, 0),
    ("0", 1, 0),
    ("65535", 1, 0),
    (" 14", 1, 1),
    ("030", 1, 1),
    ("65536", 0, 0),
    ("-5", 0, 0),
    ("", 0, 0),
    ("x", 0, 0),
    ("1e3", 0, 0),
    ("3.5", 0, 0),
    ("123456", 0, 0),
]


def test_valid_and_noncanonical_numbers_as_the_server_reads_them(probe):
    probe([value for value, _, _ in DAYS])

    got = column(f"V, {valid_int_sql('V', 0, 65535)}, {noncanonical_int_sql('V', 0, 65535)}")

    assert got == [tuple(row) for row in DAYS]


def test_a_rule_counts_then_cleans_and_afterwards_finds_nothing_left(probe):
    probe([value for value, _, _ in DAYS] + [None])
    rule = replace(STORAGE_DAYS_RULE, table=PROBE, column="V", key_sql="CONCAT('id=', id)")

    bad, noncanonical, examples = int_rule_counts(connection, rule)
    updated = int_rule_apply(connection, rule)  # strict mode: no CAST of 'x' may be reached

    assert (bad, noncanonical) == (7, 2)
    assert examples == [
        "'id=6': '65536'",
        "'id=7': '-5'",
        "'id=8': ''",
        "'id=9': 'x'",
        "'id=10': '1e3'",
    ]
    assert updated == 9
    assert column() == ["30", "0", "65535", "14", "30", *[None] * 8]
    assert int_rule_counts(connection, rule) == (0, 0, [])


def test_a_rule_with_a_default_puts_it_where_the_value_was_unreadable(probe):
    probe(["3000", "abc", "0", " 500", "99999", "100000"])
    rule = replace(SPEED_RULE, table=PROBE, column="V")

    int_rule_apply(connection, rule)

    assert column() == ["3000", "3000", "3000", "500", "99999", "3000"]


@pytest.mark.parametrize(
    ("name", "zone_id", "renamed"),
    [
        ("Kursk ", 52, "Kursk-52"),
        ("", 7, "zone-7"),
        ("   ", 8, "zone-8"),
        ("nizhny-novgorod-main", 12345, "nizhny-novgoro-12345"),
    ],
)
def test_a_repeated_zone_name_gets_its_id_within_the_columns_length(name, zone_id, renamed):
    assert zone_renamed(name, zone_id) == renamed
    assert len(renamed) <= ZONE_NAME_MAX
