"""The planner, one concern at a time, against the real MariaDB's rendering of the target.

A pair of tables already like a fresh `migrate` plans nothing; each way a table can differ
from it plans exactly the step that fixes it, or reports what it keeps. The tables are
described by hand (as inspection would read them), so every difference is tried alone.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection

from legacy.adoption.actions import Context, context_make
from legacy.adoption.planner import AdoptionPlan, plan_build
from legacy.adoption.schema import CONFIG, VIDEO, Column, ForeignKey, Index, Table

pytestmark = pytest.mark.django_db

FK_OK = ForeignKey("VIDEO_ZONE_ID_fk", ("ZONE_ID",), CONFIG, ("id",), "RESTRICT", "RESTRICT")


@pytest.fixture
def ctx() -> Context:
    ctx = context_make(connection)
    ctx.target.default_row_format = "dynamic"  # what MariaDB and MySQL ≥ 5.7.9 default to
    return ctx


def like_target(ctx: Context, name: str) -> Table:
    """The table as a fresh `migrate` makes it on this server."""
    target = ctx.target.tables[name]
    indexes = {"PRIMARY": Index("PRIMARY", ("id",), True)}
    indexes |= {c: Index(c, (c,), True) for c in target.unique_columns}
    indexes |= {n.name: Index(n.name, n.columns, n.unique) for n in target.named_indexes}
    return Table(
        name=name,
        engine="InnoDB",
        row_format="Dynamic",
        collation=ctx.target.collation,
        columns=dict(target.columns),
        indexes=indexes,
        foreign_keys=[FK_OK] if name == VIDEO else [],
        checks=set(target.checks.values()),
        rows=0,
    )


def planned(ctx: Context, change: Callable[[dict[str, Table]], object] = lambda t: None):
    tables = {name: like_target(ctx, name) for name in (CONFIG, VIDEO)}
    change(tables)
    plan = AdoptionPlan(status="pending")
    plan_build(ctx, tables, plan)
    return plan


def test_tables_like_the_target_plan_nothing(ctx):
    plan = planned(ctx)

    assert (plan.steps, plan.changes, plan.attention) == ([], [], [])


def _set(table: str, **values) -> Callable[[dict[str, Table]], None]:
    def change(tables):
        for key, value in values.items():
            setattr(tables[table], key, value)

    return change


def _drop_column(table: str, column: str, index: str | None = None):
    def change(tables):
        del tables[table].columns[column]
        if index:
            del tables[table].indexes[index]

    return change


def _drop_index(table: str, index: str):
    return lambda tables: tables[table].indexes.pop(index)


def _add_index(table: str, index: Index):
    return lambda tables: tables[table].indexes.update({index.name: index})


def _rename_index(table: str, old: str, new: str):
    def change(tables):
        index = tables[table].indexes.pop(old)
        tables[table].indexes[new] = Index(new, index.columns, index.unique)

    return change


@pytest.mark.parametrize(
    ("change", "titles"),
    [
        (
            _set(CONFIG, engine="MyISAM"),
            ["CONFIG: rebuild as InnoDB with the default row format (was MyISAM, Dynamic)"],
        ),
        (
            _set(VIDEO, row_format="Compact"),
            ["VIDEO: rebuild as InnoDB with the default row format (was InnoDB, Compact)"],
        ),
        (
            _set(CONFIG, collation="utf8mb3_general_ci"),
            ["CONFIG: convert to utf8mb4 (utf8mb4_unicode_ci), was utf8mb3_general_ci"],
        ),
        (
            _drop_column(CONFIG, "LINK_SECRET"),
            ["CONFIG: add LINK_SECRET (with their database defaults)"],
        ),
        (
            _drop_column(VIDEO, "id", index="PRIMARY"),
            [
                "VIDEO: add the primary key id (bigint AUTO_INCREMENT; the 0 existing rows get "
                "1, 2, … in table order)"
            ],
        ),
        (_drop_index(CONFIG, "ZONE"), ["CONFIG: add the unique index on ZONE"]),
        (
            _drop_index(VIDEO, "VIDEO_PROJECTID_IDX"),
            ["VIDEO: add the index VIDEO_PROJECTID_IDX on (PROJECTID)"],
        ),
        (
            _drop_index(VIDEO, "VIDEO_ZONE_FILE_UNIQ"),
            ["VIDEO: add the unique constraint VIDEO_ZONE_FILE_UNIQ on (ZONE_ID, FILE_NAME)"],
        ),
        (
            # A site indexed SESSIONID itself: the index is kept and given the project's name.
            _rename_index(VIDEO, "VIDEO_SESSIONID_IDX", "sess"),
            ["VIDEO: rename index sess to VIDEO_SESSIONID_IDX"],
        ),
        (
            # The seed's own index on ZONE_ID: the unique (ZONE_ID, FILE_NAME) covers it.
            _add_index(VIDEO, Index("VIDEO_FK", ("ZONE_ID",), False)),
            ["VIDEO: drop index VIDEO_FK on (ZONE_ID), covered by the project's indexes"],
        ),
        (_set(VIDEO, foreign_keys=[]), ["VIDEO: add the foreign key ZONE_ID → CONFIG.id"]),
        (
            _set(
                VIDEO,
                foreign_keys=[
                    ForeignKey("VIDEO_FK", ("ZONE_ID",), CONFIG, ("id",), "CASCADE", "CASCADE")
                ],
            ),
            ["VIDEO: replace VIDEO_FK (not a plain reference to CONFIG.id)"],
        ),
    ],
    ids=[
        "engine",
        "row-format",
        "charset",
        "missing-column",
        "no-video-id",
        "unique-column",
        "named-index",
        "unique-constraint",
        "index-twin",
        "covered-index",
        "no-foreign-key",
        "cascading-foreign-key",
    ],
)
def test_each_difference_plans_the_one_step_that_fixes_it(ctx, change, titles):
    plan = planned(ctx, change)

    assert [s.title for s in plan.steps] == titles
    assert plan.attention == []


def test_a_column_of_another_type_is_changed_and_its_old_and_new_definitions_shown(ctx):
    wanted = ctx.target.tables[CONFIG].columns["SPEED"]
    seed = Column("SPEED", "varchar(5)", ctx.target.collation, False, None, "")

    plan = planned(ctx, lambda tables: tables[CONFIG].columns.update(SPEED=seed))

    (step,) = plan.steps
    assert step.title == ("CONFIG: change 1 column to the project's definitions (one ALTER TABLE)")
    assert step.details == [f"SPEED: varchar(5) utf8mb4_unicode_ci NOT NULL → {wanted.describe()}"]
    assert wanted.type.startswith("int(") and "unsigned" in wanted.type


def test_a_missing_check_constraint_is_added_on_its_own(ctx):
    # What a crash halfway through adding VIDEO's columns leaves: SIZE without its CHECK.
    plan = planned(ctx, lambda tables: tables[VIDEO].checks.discard("`SIZE` >= 0"))

    (step,) = plan.steps
    assert step.details == ["SIZE: add CHECK (`SIZE` >= 0)"]


@pytest.mark.parametrize(
    ("change", "attention"),
    [
        (
            _add_index(VIDEO, Index("ws", ("WORKSTATION",), True)),
            "VIDEO: index ws on (WORKSTATION) is not part of the project's schema; kept",
        ),
        (
            lambda tables: tables[CONFIG].columns.update(
                NOTE=Column("NOTE", "text", "utf8mb4_unicode_ci", True, None, "")
            ),
            "CONFIG.NOTE (text) is not part of the project's schema; kept",
        ),
        (
            lambda tables: tables[VIDEO].columns.update(
                OPERATOR=Column("OPERATOR", "varchar(20)", "utf8mb4_unicode_ci", False, None, "")
            ),
            "VIDEO.OPERATOR (varchar(20)) is not part of the project's schema; kept — it is "
            "NOT NULL without a default, so new rows will fail until it gets one or is dropped",
        ),
    ],
    ids=["own-index", "own-column", "own-column-blocking-inserts"],
)
def test_what_a_site_added_is_kept_and_reported(ctx, change, attention):
    plan = planned(ctx, change)

    assert plan.steps == []
    assert [f.text for f in plan.attention] == [attention]
