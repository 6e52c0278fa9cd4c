"""The plan: the steps still to do, worked out from the tables as they are now.

One ``plan_*`` function per concern, each comparing the live tables with the target and adding
a step only when there is something to do, so a step that is already satisfied is never
planned. ``plan_build`` calls them in the order the steps must run; the executor calls it again
after each pass until nothing is left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured

from zones.fields import field_fernet

from . import actions
from .actions import Context
from .exceptions import AdoptionError
from .report import EXAMPLES, Finding, plural
from .rules import (
    PUBLIC_PORT_RULE,
    SPEED_RULE,
    STORAGE_DAYS_RULE,
    IntRule,
    int_rule_apply,
    int_rule_counts,
    orphans,
    placeholder_name,
    video_duplicates,
    zone_clashes,
    zone_renamed,
)
from .schema import CONFIG, DUPLICATES_TABLE, VIDEO, Table
from .sql import fetch, scalar
from .target import (
    collation_target,
    column_change_describe,
    column_changes,
    conversion_needed,
    foreign_key_ok,
    index_twin,
    indexes_accounted,
    indexes_extra,
)


@dataclass
class Step:
    """One unit of work: a description for the plan and an action that re-checks and does it."""

    title: str
    action: Callable[[], str]
    details: list[str] = field(default_factory=list)
    records_migrations: bool = False


@dataclass
class AdoptionPlan:
    status: str  # "adopted" | "empty" | "pending"
    message: str = ""
    table_rows: dict[str, int] = field(default_factory=dict)
    changes: list[Finding] = field(default_factory=list)
    attention: list[Finding] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    context: Context | None = field(default=None, repr=False)


def plan_database_charset(ctx: Context, plan: AdoptionPlan) -> None:
    # The database's default as it is now, not as it was when the adoption began.
    db_charset, db_collation, _ = collation_target(ctx.connection)
    if db_charset != "utf8mb4":
        plan.steps.append(
            Step(
                f"database: set the default character set to utf8mb4 ({ctx.target.collation}), "
                f"was {db_collation}",
                lambda: actions.database_alter(ctx),
            )
        )


def plan_engines(ctx: Context, tables: list[Table], plan: AdoptionPlan) -> None:
    for table in tables:
        # Old servers made COMPACT tables, whose index keys are too short for the
        # (ZONE_ID, FILE_NAME) unique index; a rebuild takes the server's default.
        old_format = table.row_format.lower() in ("compact", "redundant")
        default = ctx.target.default_row_format
        if table.engine.lower() != "innodb" or (
            old_format and default not in ("", table.row_format.lower())
        ):
            plan.steps.append(
                Step(
                    f"{table.name}: rebuild as InnoDB with the default row format "
                    f"(was {table.engine}, {table.row_format})",
                    lambda t=table.name: actions.innodb_rebuild(ctx, t),
                )
            )


def plan_conversions(ctx: Context, tables: list[Table], plan: AdoptionPlan) -> set[str]:
    """Plan the utf8mb4 conversions; returns the names of the tables that get one."""
    converted = set()
    for table in tables:
        if conversion_needed(ctx.target, table):
            converted.add(table.name)
            plan.steps.append(
                Step(
                    f"{table.name}: convert to utf8mb4 ({ctx.target.collation}), "
                    f"was {table.collation}",
                    lambda t=table.name: actions.table_convert(ctx, t),
                )
            )
    return converted


def plan_int_rule(ctx: Context, rule: IntRule, plan: AdoptionPlan) -> None:
    bad, noncanonical, examples = int_rule_counts(ctx.connection, rule)
    into = "NULL" if rule.replacement is None else str(rule.replacement)
    if bad:
        meaning = " (zone default)" if rule.column == "STORAGE_DAYS" else ""
        plan.changes.append(
            Finding(
                f"{rule.table}.{rule.column} values {rule.meaning}: {bad} → {into}{meaning}",
                examples,
            )
        )
    if noncanonical:
        plan.changes.append(
            Finding(
                f"{rule.table}.{rule.column} numbers written with spaces or leading zeros: "
                f"{noncanonical} → rewritten plainly"
            )
        )
    if bad or noncanonical:
        plan.steps.append(
            Step(
                f"{rule.table}: clean {rule.column} before its type changes "
                f"({bad} → {into}, {noncanonical} normalised)",
                lambda: f"{int_rule_apply(ctx.connection, rule)} rows updated",
            )
        )


def plan_add_columns(ctx: Context, table: Table, plan: AdoptionPlan, skip=()) -> None:
    target = ctx.target.tables[table.name]
    missing = [c for c in target.columns if c not in table.columns and c not in skip]
    if missing:
        plan.steps.append(
            Step(
                f"{table.name}: add {', '.join(missing)} (with their database defaults)",
                lambda t=table.name: actions.columns_add(ctx, t, skip=skip),
            )
        )


def plan_modify(ctx: Context, table: Table, assume_converted: bool, plan: AdoptionPlan) -> None:
    mods = column_changes(ctx.target, table, assume_converted=assume_converted)
    if mods:
        plan.steps.append(
            Step(
                f"{table.name}: change {plural(len(mods), 'column')} to the project's "
                "definitions (one ALTER TABLE)",
                lambda t=table.name: actions.columns_modify(ctx, t),
                details=[
                    column_change_describe(ctx.target, table, cur, want) for cur, want in mods
                ],
            )
        )


def plan_placeholders(ctx: Context, plan: AdoptionPlan) -> list[tuple[int, int]]:
    """Plan a placeholder zone per missing zone id; returns (zone id, videos) of those ids."""
    missing = orphans(ctx.connection)
    if missing:
        ids = ", ".join(str(z) for z, _ in missing)
        total = sum(n for _, n in missing)
        plan.changes.append(
            Finding(
                f"{plural(total, 'video')} of {plural(len(missing), 'zone id')} with no "
                f"CONFIG row ({ids}) → a disabled placeholder zone 'orphan-<id>' is created "
                "with each id, so those videos stay findable"
            )
        )
        plan.steps.append(
            Step(
                f"CONFIG: create disabled placeholder zones with ids {ids}",
                lambda: actions.placeholders_create(ctx),
            )
        )
    return missing


def plan_zone_clashes(ctx: Context, missing: list[tuple[int, int]], plan: AdoptionPlan) -> None:
    c = ctx.connection
    clashes = zone_clashes(c, ctx.target.collation)
    names = {
        (n or "").strip().lower()
        for (n,) in fetch(c, "SELECT `ZONE` FROM `CONFIG`")  # placeholders may clash too
    }
    placeholder_clash = any(placeholder_name(z) in names for z, _ in missing)
    if not (clashes or placeholder_clash):
        return
    if clashes:
        plan.changes.append(
            Finding(
                f"zone names that repeat an earlier zone's (compared trimmed, ignoring "
                f"case): {len(clashes)} → renamed '<name>-<id>'",
                [
                    f"id={i} {n!r} (same as id={first}) → {zone_renamed(n, i)!r}"
                    for i, n, first in clashes[:EXAMPLES]
                ],
            )
        )
    plan.steps.append(
        Step(
            "CONFIG: rename zones whose name repeats an earlier zone's",
            lambda: actions.zone_clashes_rename(ctx),
        )
    )


def plan_link_secrets(ctx: Context, config: Table, placeholders: bool, plan: AdoptionPlan) -> None:
    if "LINK_SECRET" in config.columns:
        empty = scalar(ctx.connection, "SELECT COUNT(*) FROM `CONFIG` WHERE `LINK_SECRET` = ''")
    else:
        empty = config.rows
    if empty or placeholders:
        try:
            field_fernet()
        except ImproperlyConfigured as exc:
            raise AdoptionError(f"zones need a link secret, but {exc}") from exc
        plan.steps.append(
            Step(
                "CONFIG: give every zone without a video link secret a random one (encrypted)",
                lambda: actions.link_secrets_fill(ctx),
            )
        )


def plan_storage_days_empty(ctx: Context, plan: AdoptionPlan) -> None:
    empty_days = scalar(
        ctx.connection, "SELECT COUNT(*) FROM `VIDEO` WHERE TRIM(CAST(STORAGE_DAYS AS CHAR)) = ''"
    )
    if empty_days:
        plan.attention.append(
            Finding(
                f"{plural(empty_days, 'video')} with STORAGE_DAYS '' — if the old clients "
                "still send '', their INSERTs fail once the column is a number (the server "
                "is in strict mode): make them send NULL or a number before adopting"
            )
        )


def plan_video_id(ctx: Context, video: Table, plan: AdoptionPlan) -> None:
    if "id" not in video.columns:
        plan.steps.append(
            Step(
                f"VIDEO: add the primary key id (bigint AUTO_INCREMENT; the "
                f"{plural(video.rows, 'existing row')} get 1, 2, … in table order)",
                lambda: actions.columns_add(ctx, VIDEO, only=["id"]),
            )
        )


def plan_duplicates(ctx: Context, plan: AdoptionPlan) -> None:
    groups, surplus, conflicts = video_duplicates(ctx.connection)
    if not surplus:
        return
    plan.changes.append(
        Finding(
            f"VIDEO rows with the same (ZONE_ID, FILE_NAME) as another: {surplus} in "
            f"{plural(groups, 'group')} → the lowest id stays in VIDEO, the others move "
            f"to {DUPLICATES_TABLE}"
        )
    )
    plan.attention.append(
        Finding(
            "the old clients registered some files more than once; after adoption a "
            "second INSERT of the same (ZONE_ID, FILE_NAME) fails with a duplicate-key "
            "error — make sure the old clients treat that as done, or replace them first"
        )
    )
    if conflicts:
        plan.attention.append(
            Finding(
                "duplicate rows of one file that name different session ids; the "
                f"moved rows' session ids will only be in {DUPLICATES_TABLE}",
                conflicts,
            )
        )
    plan.steps.append(
        Step(
            f"VIDEO: move {plural(surplus, 'duplicate row')} to {DUPLICATES_TABLE}",
            lambda: actions.duplicates_move(ctx),
        )
    )


def plan_indexes(ctx: Context, table: Table, plan: AdoptionPlan) -> None:
    target = ctx.target.tables[table.name]
    by_name = table.indexes
    for col in target.unique_columns:
        if not any(i.unique and i.columns == (col,) for i in by_name.values()):
            plan.steps.append(
                Step(
                    f"{table.name}: add the unique index on {col}",
                    lambda t=table.name, col=col: actions.unique_column_add(ctx, t, col),
                )
            )
    for named in target.named_indexes:
        have = by_name.get(named.name)
        if have and have.columns == named.columns and have.unique == named.unique:
            continue
        kind = "unique constraint" if named.unique else "index"
        twin = None
        if not have:
            twin = index_twin(table, named, indexes_accounted(ctx.target, table, with_twins=False))
        if twin and ctx.connection.features.can_rename_index:
            title = f"{table.name}: rename index {twin.name} to {named.name}"
        else:
            title = f"{table.name}: add the {kind} {named.name} on ({', '.join(named.columns)})"
        plan.steps.append(
            Step(title, lambda t=table.name, n=named: actions.named_index_ensure(ctx, t, n))
        )


def plan_foreign_key(ctx: Context, video: Table, plan: AdoptionPlan) -> None:
    good = [fk for fk in video.foreign_keys if foreign_key_ok(fk)]
    bad = [fk for fk in video.foreign_keys if fk.columns == ("ZONE_ID",) and fk not in good]
    if good and not bad:
        return
    what = (
        f"replace {', '.join(fk.name for fk in bad)} (not a plain reference to CONFIG.id)"
        if bad
        else "add the foreign key ZONE_ID → CONFIG.id"
    )
    plan.steps.append(Step(f"VIDEO: {what}", lambda: actions.foreign_key_ensure(ctx)))


def plan_redundant_indexes(ctx: Context, table: Table, plan: AdoptionPlan) -> None:
    drop, keep = indexes_extra(ctx.target, table)
    for index in drop:
        plan.steps.append(
            Step(
                f"{table.name}: drop index {index.name} on ({', '.join(index.columns)}), "
                "covered by the project's indexes",
                lambda t=table.name, n=index.name: actions.index_drop(ctx, t, n),
            )
        )
    for index in keep:
        plan.attention.append(
            Finding(
                f"{table.name}: index {index.name} on ({', '.join(index.columns)}) is not part "
                "of the project's schema; kept"
            )
        )


def plan_extra_columns(ctx: Context, tables: dict[str, Table], plan: AdoptionPlan) -> None:
    for name, table in tables.items():
        wanted = ctx.target.tables[name].columns
        for col in (c for c in table.columns.values() if c.name not in wanted):
            blocking = not col.null and col.default is None and "auto_increment" not in col.extra
            plan.attention.append(
                Finding(
                    f"{name}.{col.name} ({col.type}) is not part of the project's schema; kept"
                    + (
                        " — it is NOT NULL without a default, so new rows will fail until "
                        "it gets one or is dropped"
                        if blocking
                        else ""
                    )
                )
            )


def plan_build(ctx: Context, tables: dict[str, Table], plan: AdoptionPlan) -> None:
    """Every step still to do, in the order they must run: the whole-table changes first,
    then CONFIG (VIDEO's foreign key points at it), then VIDEO, then what is left over."""
    config, video = tables[CONFIG], tables[VIDEO]
    plan_database_charset(ctx, plan)
    plan_engines(ctx, [config, video], plan)
    converted = plan_conversions(ctx, [config, video], plan)

    # CONFIG: clean the values the type changes would reject, then change the columns.
    for rule in (SPEED_RULE, PUBLIC_PORT_RULE):
        plan_int_rule(ctx, rule, plan)
    plan_add_columns(ctx, config, plan)
    plan_modify(ctx, config, CONFIG in converted, plan)
    missing = plan_placeholders(ctx, plan)
    plan_zone_clashes(ctx, missing, plan)
    plan_indexes(ctx, config, plan)
    plan_link_secrets(ctx, config, bool(missing), plan)

    # VIDEO
    plan_int_rule(ctx, STORAGE_DAYS_RULE, plan)
    plan_storage_days_empty(ctx, plan)
    plan_video_id(ctx, video, plan)
    plan_add_columns(ctx, video, plan, skip=["id"])
    plan_modify(ctx, video, VIDEO in converted, plan)
    plan_duplicates(ctx, plan)
    plan_indexes(ctx, video, plan)
    plan_foreign_key(ctx, video, plan)

    plan_redundant_indexes(ctx, config, plan)
    plan_redundant_indexes(ctx, video, plan)
    plan_extra_columns(ctx, tables, plan)
