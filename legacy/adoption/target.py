"""What the old tables must become, and how a live table differs from it.

Column definitions are never written here by hand: they come from the historical models of the
two initial migrations and Django's schema editor, and the server's own rendering of them (a
temporary table created from Django's ``CREATE TABLE``) is the yardstick every existing column
is compared with. That keeps the result identical to a fresh ``migrate`` on this very server
version, whatever it prints ``int`` as.
"""

# SQL here is assembled from quoted identifiers and this module's own constants; every value
# read from the database goes as a query parameter.
# ruff: noqa: S608

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from django.db import DatabaseError, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader

from .exceptions import AdoptionError
from .schema import (
    CONFIG,
    TEXT_TYPES,
    VIDEO,
    Column,
    ForeignKey,
    Index,
    Table,
    check_normalise,
    columns_show,
)
from .sql import execute, fetch, quote, scalar

ADOPTED_MIGRATIONS = (("zones", "0001_initial"), ("storage", "0001_initial"))


@dataclass(frozen=True)
class NamedIndex:
    """An index or unique constraint the models name: later migrations refer to it by name."""

    name: str
    columns: tuple[str, ...]
    unique: bool
    definition: models.Index | models.UniqueConstraint


@dataclass
class TargetTable:
    """What ``migrate`` creates for one table on this server, derived from the models."""

    model: type[models.Model]
    collation: str
    columns: dict[str, Column]
    checks: dict[str, str]  # column → normalised check clause
    unique_columns: list[str]  # single-column unique=True fields (named by the server)
    named_indexes: list[NamedIndex]

    def field_for(self, column: str) -> models.Field:
        for f in self.model._meta.local_fields:
            if f.column == column:
                return f
        raise KeyError(column)

    def all_index_columns(self) -> list[tuple[tuple[str, ...], bool]]:
        keys = [(("id",), True)]
        keys += [((c,), True) for c in self.unique_columns]
        keys += [(i.columns, i.unique) for i in self.named_indexes]
        return keys


@dataclass
class Target:
    """Both tables' targets, with the collation and row format they are built with."""

    collation: str
    default_row_format: str
    tables: dict[str, TargetTable]


def _safe_identifier(value: str) -> str:
    # Collation names come from the server; still, nothing unchecked is spliced into SQL.
    if not re.fullmatch(r"[A-Za-z0-9_]+", value or ""):
        raise AdoptionError(f"unexpected collation name from the server: {value!r}")
    return value


def collation_target(connection: BaseDatabaseWrapper) -> tuple[str, str, str]:
    """(database charset, database collation, collation the two tables should end up with).

    ``migrate`` creates tables with the database's defaults. The seed's tables are utf8mb3,
    and the project talks utf8mb4; when the database default is not utf8mb4 either, the
    server's utf8mb4 default is used and the database default is changed to it as well, so
    the tables ``migrate`` creates afterwards match.
    """
    db_charset, db_collation = fetch(
        connection,
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
        "information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()",
    )[0]
    if db_charset == "utf8mb4":
        return db_charset, db_collation, _safe_identifier(db_collation)
    server = scalar(connection, "SELECT @@collation_server")
    if server and server.startswith("utf8mb4_"):
        return db_charset, db_collation, _safe_identifier(server)
    default = scalar(
        connection,
        "SELECT DEFAULT_COLLATE_NAME FROM information_schema.CHARACTER_SETS "
        "WHERE CHARACTER_SET_NAME = 'utf8mb4'",
    )
    return db_charset, db_collation, _safe_identifier(default)


def historical_models() -> dict[str, type[models.Model]]:
    """Zone and Video exactly as the two initial migrations define them (not as models.py
    defines them today: a later migration may have changed them, and it will run afterwards)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    apps = loader.project_state(list(ADOPTED_MIGRATIONS), at_end=True).apps
    return {CONFIG: apps.get_model("zones", "Zone"), VIDEO: apps.get_model("storage", "Video")}


def target_table(
    connection: BaseDatabaseWrapper, model: type[models.Model], collation: str
) -> TargetTable:
    table = model._meta.db_table
    temp = f"_opvideo_adopt_target_{table}"
    with connection.schema_editor(collect_sql=True) as editor:
        create_sql, params = editor.table_sql(model)
    prefix = f"CREATE TABLE {quote(connection, table)}"
    if not create_sql.startswith(prefix):
        raise AdoptionError(f"unexpected CREATE TABLE from Django for {table}")
    create_sql = (
        f"CREATE TEMPORARY TABLE {quote(connection, temp)}{create_sql[len(prefix) :]}"
        f" DEFAULT CHARSET=utf8mb4 COLLATE={collation}"
    )
    # A temporary table lives only in this session: nothing anyone else can see is created.
    execute(connection, f"DROP TEMPORARY TABLE IF EXISTS {quote(connection, temp)}")
    try:
        execute(connection, create_sql, params)
        columns = columns_show(connection, temp)
    finally:
        execute(connection, f"DROP TEMPORARY TABLE IF EXISTS {quote(connection, temp)}")
    checks = {}
    for f in model._meta.local_fields:
        check = f.db_parameters(connection=connection)["check"]
        if check:
            checks[f.column] = check_normalise(check)
    column_of = {f.name: f.column for f in model._meta.local_fields}
    named = [
        NamedIndex(i.name, tuple(column_of[n] for n in i.fields), False, i)
        for i in model._meta.indexes
    ]
    named += [
        NamedIndex(c.name, tuple(column_of[n] for n in c.fields), True, c)
        for c in model._meta.constraints
        if isinstance(c, models.UniqueConstraint)
    ]
    unique_columns = [f.column for f in model._meta.local_fields if f.unique and not f.primary_key]
    return TargetTable(model, collation, columns, checks, unique_columns, named)


def target_build(connection: BaseDatabaseWrapper) -> Target:
    collation = collation_target(connection)[2]
    try:
        row_format = scalar(connection, "SELECT @@GLOBAL.innodb_default_row_format")
    except DatabaseError:  # MySQL < 5.7.9: no such variable, no rebuild for it
        row_format = ""
    tables = {
        name: target_table(connection, model, collation)
        for name, model in historical_models().items()
    }
    return Target(collation, str(row_format or "").lower(), tables)


# --- how a live table differs from its target -------------------------------------------------


def values_fit_check(connection: BaseDatabaseWrapper, target: Target, tables: dict[str, Table]):
    """Refuse up front what strict mode would refuse halfway: NULLs in a NOT NULL column and
    text longer than the target column (only possible if a site changed the seed's schema)."""
    problems = []
    for name, table in tables.items():
        wanted_table = target.tables[name]
        for column, current in table.columns.items():
            wanted = wanted_table.columns.get(column)
            if wanted is None:
                continue
            col = quote(connection, column)
            tbl = quote(connection, name)
            if current.null and not wanted.null:
                n = scalar(connection, f"SELECT COUNT(*) FROM {tbl} WHERE {col} IS NULL")
                if n:
                    problems.append(f"{name}.{column} is empty (NULL) in {n} rows")
            f = wanted_table.field_for(column)
            length = re.fullmatch(r"(?:var)?char\((\d+)\)", current.type.lower())
            narrower = not length or int(length.group(1)) > (f.max_length or 0)
            if isinstance(f, models.CharField) and current.data_type in TEXT_TYPES and narrower:
                n = scalar(
                    connection,
                    f"SELECT COUNT(*) FROM {tbl} WHERE CHAR_LENGTH({col}) > %s",
                    [f.max_length],
                )
                if n:
                    problems.append(
                        f"{name}.{column} is longer than {f.max_length} characters in {n} rows"
                    )
    if problems:
        raise AdoptionError(
            "values the new schema cannot hold (fix them by hand, then run again): "
            + "; ".join(problems)
        )


def conversion_needed(target: Target, table: Table) -> bool:
    if table.collation != target.collation:
        return True
    return any(col.charset not in (None, "utf8mb4") for col in table.columns.values())


def column_changes(
    target: Target, table: Table, *, assume_converted: bool
) -> list[tuple[Column, Column]]:
    """(current, wanted) for each column whose definition or check differs from the target."""
    wanted_table = target.tables[table.name]
    out = []
    for name, wanted in wanted_table.columns.items():
        current = table.columns.get(name)
        if current is None:
            continue
        seen = current
        if assume_converted and current.collation:
            seen = replace(current, collation=target.collation)
        check = wanted_table.checks.get(name)
        if seen.signature() != wanted.signature() or (check and check not in table.checks):
            out.append((current, wanted))
    return out


def column_change_describe(target: Target, table: Table, current: Column, wanted: Column) -> str:
    check = target.tables[table.name].checks.get(current.name)
    if current.describe() == wanted.describe() and check and check not in table.checks:
        return f"{current.name}: add CHECK ({check})"
    return f"{current.name}: {current.describe()} → {wanted.describe()}"


def foreign_key_ok(fk: ForeignKey) -> bool:
    return (
        fk.columns == ("ZONE_ID",)
        and fk.to_table == CONFIG
        and fk.to_columns == ("id",)
        and fk.update_rule in ("RESTRICT", "NO ACTION")
        and fk.delete_rule in ("RESTRICT", "NO ACTION")
    )


def index_twin(table: Table, named: NamedIndex, accounted: set[str]) -> Index | None:
    """An index a site already made with a named target's columns, under another name."""
    return next(
        (
            i
            for i in table.indexes.values()
            if i.name not in accounted and (i.columns, i.unique) == (named.columns, named.unique)
        ),
        None,
    )


def indexes_accounted(target: Target, table: Table, *, with_twins: bool = True) -> set[str]:
    """Names of the indexes that are (or, with_twins, will be renamed to) the target's own."""
    wanted = target.tables[table.name]
    accounted = {"PRIMARY"} | {n.name for n in wanted.named_indexes if n.name in table.indexes}
    for col in wanted.unique_columns:
        match = next(
            (
                i
                for i in table.indexes.values()
                if i.unique and i.columns == (col,) and i.name not in accounted
            ),
            None,
        )
        if match:
            accounted.add(match.name)
    for named in wanted.named_indexes:
        if with_twins and named.name not in table.indexes:
            twin = index_twin(table, named, accounted)
            if twin:
                accounted.add(twin.name)
    return accounted


def indexes_extra(target: Target, table: Table) -> tuple[list[Index], list[Index]]:
    """(indexes to drop, indexes to keep and report) among those the target does not have.

    A non-unique index whose columns start a target index (the seed's VIDEO_FK on ZONE_ID,
    once (ZONE_ID, FILE_NAME) is unique) only costs writes, and a fresh database does not
    have it: it goes. Anything else a site added on purpose is kept and reported.
    """
    accounted = indexes_accounted(target, table)
    wanted = target.tables[table.name].all_index_columns()
    drop, keep = [], []
    for index in table.indexes.values():
        if index.name in accounted:
            continue
        covered = any(cols[: len(index.columns)] == index.columns for cols, _ in wanted)
        (drop if covered and not index.unique else keep).append(index)
    return drop, keep
