"""Scratch databases for the adoption tests, and the states they are compared with."""

from __future__ import annotations

import re

import pytest

from tests.legacy.seed import ScratchDB, make_legacy, ok
from tests.legacy.snapshots import MIGRATED_TABLES, end_state, schema


@pytest.fixture
def scratch():
    made: list[ScratchDB] = []

    def make(**kwargs) -> ScratchDB:
        db = ScratchDB(**kwargs)
        made.append(db)
        return db

    yield make
    for db in made:
        db.drop()


@pytest.fixture(scope="module")
def reference_schema():
    """The schema `migrate` makes on an empty database: what adoption must arrive at."""
    db = ScratchDB("opvideo_fresh")
    try:
        ok(db.manage("migrate", "-v0"))
        return schema(db, MIGRATED_TABLES)
    finally:
        db.drop()


@pytest.fixture(scope="module")
def adopted_end_state():
    """A legacy database adopted in one go: the state an interrupted adoption must reach."""
    db = ScratchDB()
    try:
        make_legacy(db, orphans="fk_checks_off")
        dry = ok(db.manage("adopt_legacy", "--dry-run"))
        titles = re.findall(r"^  \d+\. (.*)$", dry, flags=re.M)
        ok(db.manage("adopt_legacy"))
        return end_state(db), titles
    finally:
        db.drop()
