"""Running `adopt_legacy` again: after success, on an empty database, and after an
interruption (--max-steps, or a crash inside a step) it reaches the same end state."""

from __future__ import annotations

import pytest

from tests.legacy.seed import make_legacy, ok
from tests.legacy.snapshots import end_state, fingerprint


def test_second_run_is_a_no_op(scratch):
    db = scratch()
    make_legacy(db, orphans="fk_checks_off")
    ok(db.manage("adopt_legacy"))
    before = fingerprint(db)
    assert "CONSTRAINT `VIDEO_FK` FOREIGN KEY (`ZONE_ID`)" in before["VIDEO"][0]  # kept

    out = ok(db.manage("adopt_legacy"))

    assert "already adopted" in out
    assert fingerprint(db) == before


def test_empty_database_is_a_no_op_and_migrate_then_works(scratch):
    db = scratch()

    out = ok(db.manage("adopt_legacy"))

    assert "nothing to adopt" in out
    assert db.query("SHOW TABLES") == []
    ok(db.manage("migrate", "-v0"))
    assert {"CONFIG", "VIDEO"} <= {t for (t,) in db.query("SHOW TABLES")}
    assert "already adopted" in ok(db.manage("adopt_legacy"))


@pytest.mark.parametrize("fraction", [0.05, 0.35, 0.6, 0.9])
def test_rerun_after_an_interruption_reaches_the_same_end_state(
    scratch, adopted_end_state, fraction
):
    expected, titles = adopted_end_state
    db = scratch()
    make_legacy(db, orphans="fk_checks_off")
    steps = max(1, int(len(titles) * fraction))

    first = ok(db.manage("adopt_legacy", f"--max-steps={steps}"))
    assert f"Stopped after {steps} steps" in first
    assert "django_migrations" not in {t for (t,) in db.query("SHOW TABLES")}
    second = ok(db.manage("adopt_legacy"))

    assert "Adopted." in second
    assert end_state(db) == expected


def test_rerun_after_a_crash_inside_a_step_reaches_the_same_end_state(scratch, adopted_end_state):
    expected, titles = adopted_end_state
    db = scratch()
    make_legacy(db, orphans="fk_checks_off")
    # Stop just before VIDEO gets its new columns, then add one of them the way a crash
    # halfway through that step would leave it (and without its CHECK constraint).
    step = next(i for i, t in enumerate(titles) if t.startswith("VIDEO: add SIZE"))
    ok(db.manage("adopt_legacy", f"--max-steps={step}"))
    with db.connect() as conn:
        conn.cursor().execute("ALTER TABLE VIDEO ADD COLUMN SIZE bigint unsigned NULL")

    out = ok(db.manage("adopt_legacy"))

    assert "SIZE: add CHECK (`SIZE` >= 0)" in out
    assert end_state(db) == expected
