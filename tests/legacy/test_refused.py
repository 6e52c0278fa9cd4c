"""Databases `adopt_legacy` cannot adopt: refused with a one-line reason, left untouched."""

from __future__ import annotations

import sqlite3

import pytest

from tests.legacy.seed import SEED_CONFIG_DDL, SEED_VIDEO_DDL, manage
from tests.legacy.snapshots import fingerprint


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (
            [SEED_CONFIG_DDL, SEED_VIDEO_DDL.replace("  `SESSIONID` varchar(50) NOT NULL,\n", "")],
            "CONFIG/VIDEO do not look like the seed's tables: VIDEO has no column SESSIONID",
        ),
        (
            # A site widened ZONE and used it: the project's varchar(20) cannot hold that.
            [
                SEED_CONFIG_DDL.replace("`ZONE` varchar(20)", "`ZONE` varchar(40)"),
                SEED_VIDEO_DDL,
                "INSERT INTO CONFIG SET ZONE = 'nizhny-novgorod-central', SERVER = 's', "
                "USER = 'u', RSA_KEY = '', SPEED = '3000', PATH_SRC = '/a', PATH_DST = '/b', "
                "TYPE_VIDEOFILE = 'mp4'",
            ],
            "values the new schema cannot hold (fix them by hand, then run again): "
            "CONFIG.ZONE is longer than 20 characters in 1 rows",
        ),
    ],
    ids=["missing-column", "value-too-long"],
)
def test_databases_that_cannot_be_adopted_are_refused_untouched(scratch, setup, message):
    db = scratch()
    with db.connect() as conn:
        for sql in setup:
            conn.cursor().execute(sql)
    before = fingerprint(db)

    for args in (["--dry-run"], []):
        result = db.manage("adopt_legacy", *args)

        assert result.returncode != 0
        assert result.stderr.strip().splitlines()[-1] == f"CommandError: {message}"
    assert fingerprint(db) == before


def test_legacy_tables_on_another_engine_are_refused(tmp_path):
    path = tmp_path / "legacy.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE CONFIG (id integer primary key, ZONE varchar(20))")
        conn.execute("CREATE TABLE VIDEO (ZONE_ID integer, SESSIONID varchar(50))")

    result = manage(f"sqlite:///{path}", "adopt_legacy")

    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("CommandError: legacy tables CONFIG, VIDEO found on sqlite")
    assert "MySQL/MariaDB" in last
