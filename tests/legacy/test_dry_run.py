"""`manage.py adopt_legacy --dry-run`: the plan printed, nothing changed."""

from __future__ import annotations

import re

from tests.legacy.seed import legacy_rows, make_legacy, ok
from tests.legacy.snapshots import fingerprint


def test_dry_run_prints_the_plan_and_changes_nothing(scratch):
    db = scratch()
    make_legacy(db)
    before = fingerprint(db)

    out = ok(db.manage("adopt_legacy", "--dry-run"))

    assert fingerprint(db) == before
    assert "django_migrations" not in before["tables"]
    assert f"Legacy tables found: CONFIG 5 rows, VIDEO {len(legacy_rows()) + 2} rows." in out
    assert re.search(r"Plan \(\d+ steps\):", out)
    assert "VIDEO: add the primary key id" in out
    assert "SPEED: varchar(5) utf8mb3_general_ci NOT NULL → int(10) unsigned NOT NULL" in out
    assert "if the old clients still send '', their INSERTs fail" in out
    assert "a second INSERT of the same (ZONE_ID, FILE_NAME) fails" in out
    assert out.rstrip().endswith("Dry run: nothing was changed.")
