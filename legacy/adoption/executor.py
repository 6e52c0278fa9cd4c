"""Running an adoption: the plan for the database as it is, then its steps in passes, then the
two initial migrations recorded as applied.

Each pass re-inspects the database, so steps that an earlier, interrupted run already did are
not planned again and the ones it left half-done are finished. The migrations are recorded only
once the tables match the target, so ``migrate`` never runs on top of a half-adopted schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder

from .actions import Context, context_make
from .exceptions import AdoptionError
from .findings import findings_list
from .planner import AdoptionPlan, Step, plan_build
from .report import Finding, plural
from .schema import CONFIG, VIDEO, Table, legacy_tables_present, seed_shape_check, table_read
from .target import ADOPTED_MIGRATIONS, values_fit_check

RECORD_TITLE = "record zones.0001_initial and storage.0001_initial as applied"
PASSES = 3


@dataclass
class AdoptionOutcome:
    done: list[str] = field(default_factory=list)
    stopped_early: bool = False
    attention: list[Finding] = field(default_factory=list)


def adopted(connection: BaseDatabaseWrapper) -> bool:
    recorder = MigrationRecorder(connection)
    return recorder.has_table() and ADOPTED_MIGRATIONS[0] in recorder.applied_migrations()


def migrations_record(connection: BaseDatabaseWrapper) -> str:
    recorder = MigrationRecorder(connection)
    recorder.ensure_schema()
    with transaction.atomic(using=connection.alias):
        applied = recorder.applied_migrations()
        for app, name in ADOPTED_MIGRATIONS:
            if (app, name) not in applied:
                recorder.record_applied(app, name)
    return "recorded " + ", ".join(f"{a}.{n}" for a, n in ADOPTED_MIGRATIONS)


def tables_inspect(ctx: Context) -> dict[str, Table]:
    """Both tables as they are now; refuses tables the seed did not make and values the new
    schema cannot hold, before anything is touched."""
    tables = {name: table_read(ctx.connection, name) for name in (CONFIG, VIDEO)}
    seed_shape_check(tables)
    values_fit_check(ctx.connection, ctx.target, tables)
    return tables


def legacy_adoption_plan(*, using: str = "default") -> AdoptionPlan:
    """Inspect the database and say what adopting it would change. Changes nothing.

    Raises AdoptionError when the database cannot be adopted (unsupported engine, tables that
    are not the seed's, values no cleaning rule covers) — before anything is touched.
    """
    connection = connections[using]
    if adopted(connection):
        return AdoptionPlan(
            status="adopted",
            message="already adopted: django_migrations has zones.0001_initial; nothing to do",
        )
    present = legacy_tables_present(connection)
    if not present:
        return AdoptionPlan(
            status="empty",
            message="no legacy tables (CONFIG, VIDEO) here; nothing to adopt — run `migrate`",
        )
    if connection.vendor != "mysql":
        raise AdoptionError(
            f"legacy tables {', '.join(sorted(present))} found on {connection.vendor}; only "
            "MySQL/MariaDB databases of the old system can be adopted"
        )
    if present != {CONFIG, VIDEO}:
        missing = ({CONFIG, VIDEO} - present).pop()
        raise AdoptionError(
            f"found {present.pop()} but no {missing}: this is not the old system's database"
        )
    ctx = context_make(connection)
    tables = tables_inspect(ctx)
    plan = AdoptionPlan(status="pending", table_rows={n: t.rows for n, t in tables.items()})
    plan_build(ctx, tables, plan)
    plan.attention = findings_list(connection) + plan.attention
    plan.steps.append(
        Step(RECORD_TITLE, lambda: migrations_record(connection), records_migrations=True)
    )
    plan.context = ctx
    return plan


def _step_run(step: Step, count: int, progress: Callable[[str], None]) -> str:
    progress(f"[{count}] {step.title} …")
    try:
        result = step.action()
    except (DatabaseError, AdoptionError, ImproperlyConfigured) as exc:
        raise AdoptionError(
            f"step {count} ({step.title}) failed: {' '.join(str(exc).split())}; "
            "nothing after it was run — fix the cause and run adopt_legacy again"
        ) from exc
    progress(f"    {result}")
    return f"{step.title}: {result}"


def _replan(ctx: Context) -> AdoptionPlan:
    again = AdoptionPlan(status="pending")
    plan_build(ctx, tables_inspect(ctx), again)
    return again


def legacy_adoption_execute(
    *,
    plan: AdoptionPlan,
    max_steps: int | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> AdoptionOutcome:
    """Run the plan's steps in order, then re-plan until nothing but recording is left.

    With ``max_steps``, stops after that many steps (``stopped_early``); running the command
    again continues from the database as that left it.
    """
    outcome = AdoptionOutcome()
    if plan.status != "pending":
        return outcome
    ctx = plan.context
    steps = [s for s in plan.steps if not s.records_migrations]
    count = 0
    for pass_no in range(PASSES):
        for step in steps:
            if max_steps is not None and count >= max_steps:
                outcome.stopped_early = True
                return outcome
            count += 1
            outcome.done.append(_step_run(step, count, progress))
        steps = _replan(ctx).steps
        if not steps:
            break
        progress(f"pass {pass_no + 2}: {plural(len(steps), 'step')} still to do")
    else:
        raise AdoptionError(
            "the tables still differ from the target after three passes: "
            + "; ".join(s.title for s in steps)
        )
    if max_steps is not None and count >= max_steps:
        outcome.stopped_early = True
        return outcome
    count += 1
    progress(f"[{count}] {RECORD_TITLE} …")
    try:
        progress(f"    {migrations_record(ctx.connection)}")
    except DatabaseError as exc:
        raise AdoptionError(f"recording the migrations failed: {exc}") from exc
    final = _replan(ctx)
    outcome.attention = findings_list(ctx.connection) + ctx.notes + final.attention
    return outcome
