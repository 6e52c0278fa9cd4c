"""The steps' actions: each works out from the live database what is still to do, then does it.

MySQL/MariaDB DDL is not transactional, so a run can stop between two statements (a crash, a
killed session, ``--max-steps``). An action therefore never trusts the plan it was made for: it
reads the table again and answers "already done" when there is nothing left, so running the
command again after any kind of interruption finishes what was half-done.
"""

# SQL here is assembled from quoted identifiers and this module's own constants; every value
# read from the database goes as a query parameter.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from zones.fields import encrypt_value
from zones.services import link_secret_generate

from .exceptions import AdoptionError
from .report import Finding, plural
from .rules import (
    DEFAULT_SPEED_KBPS,
    FILE_KEY,
    PLACEHOLDER_PATH,
    PLACEHOLDER_SERVER,
    orphans,
    placeholder_name,
    zone_clashes,
    zone_renamed,
)
from .schema import DUPLICATES_TABLE, VIDEO, table_read
from .sql import execute, fetch, quote, scalar
from .target import (
    NamedIndex,
    Target,
    column_changes,
    conversion_needed,
    foreign_key_ok,
    index_twin,
    indexes_accounted,
    target_build,
)


@dataclass
class Context:
    """One adoption: its connection, what the tables must become, and what its actions did
    that a person should know about (shown in the summary)."""

    connection: BaseDatabaseWrapper
    target: Target
    notes: list[Finding] = field(default_factory=list)


def context_make(connection: BaseDatabaseWrapper) -> Context:
    return Context(connection, target_build(connection))


def database_alter(ctx: Context) -> str:
    c = ctx.connection
    db = c.settings_dict["NAME"]
    execute(
        c,
        f"ALTER DATABASE {quote(c, db)} CHARACTER SET utf8mb4 COLLATE {ctx.target.collation}",
    )
    return "done"


def innodb_rebuild(ctx: Context, name: str) -> str:
    table = quote(ctx.connection, name)
    execute(ctx.connection, f"ALTER TABLE {table} ENGINE=InnoDB ROW_FORMAT=DEFAULT")
    return "done"


def table_convert(ctx: Context, name: str) -> str:
    c = ctx.connection
    if not conversion_needed(ctx.target, table_read(c, name)):
        return "already done"
    execute(
        c,
        f"ALTER TABLE {quote(c, name)} CONVERT TO CHARACTER SET utf8mb4 "
        f"COLLATE {ctx.target.collation}",
    )
    return "done"


def columns_add(ctx: Context, name: str, only=None, skip=()) -> str:
    target = ctx.target.tables[name]
    table = table_read(ctx.connection, name)
    added = []
    with ctx.connection.schema_editor(atomic=False) as editor:
        for f in target.model._meta.local_fields:
            if f.column in table.columns or f.column in skip:
                continue
            if only is not None and f.column not in only:
                continue
            # add_field writes the column with its db_default, exactly as migrate would.
            editor.add_field(target.model, f)
            added.append(f.column)
    return f"added {', '.join(added)}" if added else "already done"


def _column_definition(connection, editor, model: type[models.Model], f: models.Field):
    definition, params = editor.column_sql(model, f)
    # Keys are separate steps; a MODIFY must not try to add a second primary/unique key.
    definition = definition.removesuffix(" PRIMARY KEY").removesuffix(" UNIQUE")
    if suffix := f.db_type_suffix(connection=connection):
        definition += f" {suffix}"
    db_params = f.db_parameters(connection=connection)
    if db_params["check"]:
        definition += " " + editor.sql_check_constraint % db_params
    return definition, params


def columns_modify(ctx: Context, name: str) -> str:
    c = ctx.connection
    mods = column_changes(ctx.target, table_read(c, name), assume_converted=False)
    if not mods:
        return "already done"
    target = ctx.target.tables[name]
    clauses, params = [], []
    with c.schema_editor(atomic=False) as editor:
        for current, _wanted in mods:
            definition, p = _column_definition(
                c, editor, target.model, target.field_for(current.name)
            )
            clauses.append(f"MODIFY {quote(c, current.name)} {definition}")
            params.extend(p)
        editor.execute(f"ALTER TABLE {quote(c, name)} " + ", ".join(clauses), params or None)
    return f"changed {', '.join(cur.name for cur, _ in mods)}"


def placeholders_create(ctx: Context) -> str:
    c = ctx.connection
    missing = orphans(c)
    if not missing:
        return "already done"
    saved = scalar(c, "SELECT @@SESSION.sql_mode")
    try:
        # An orphan ZONE_ID of 0 must become id 0, not the next AUTO_INCREMENT value.
        execute(c, "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_VALUE_ON_ZERO')")
        with transaction.atomic(using=c.alias):
            for zone_id, _n in missing:
                execute(
                    c,
                    "INSERT INTO `CONFIG` (id, `ZONE`, `SERVER`, `USER`, `RSA_KEY`, `SPEED`, "
                    "`PATH_SRC`, `PATH_DST`, `TYPE_VIDEOFILE`, `ENABLED`) "
                    "VALUES (%s, %s, %s, %s, '', %s, %s, %s, 'mp4', 0)",
                    [
                        zone_id,
                        placeholder_name(zone_id),
                        PLACEHOLDER_SERVER,
                        "orphan",
                        DEFAULT_SPEED_KBPS,
                        PLACEHOLDER_PATH,
                        PLACEHOLDER_PATH,
                    ],
                )
    finally:
        execute(c, "SET SESSION sql_mode = %s", [saved])
    return "created " + ", ".join(
        f"{placeholder_name(z)} ({plural(n, 'video')})" for z, n in missing
    )


def zone_clashes_rename(ctx: Context) -> str:
    c = ctx.connection
    renamed = []
    with transaction.atomic(using=c.alias):
        for _round in range(10):
            clashes = zone_clashes(c, ctx.target.collation)
            if not clashes:
                break
            for zone_id, name, _first in clashes:
                new = zone_renamed(name, zone_id)
                execute(c, "UPDATE `CONFIG` SET `ZONE` = %s WHERE id = %s", [new, zone_id])
                renamed.append(f"id={zone_id} {name!r} → {new!r}")
        else:
            raise AdoptionError("zone names still repeat after 10 rounds of renaming")
    if renamed:
        ctx.notes.append(
            Finding(
                "zones renamed because their name repeated an earlier zone's; workstations "
                "that looked their zone up by the old name now find the earlier zone — check "
                "which zone they belong to",
                renamed,
            )
        )
    return "renamed " + "; ".join(renamed) if renamed else "already done"


def unique_column_add(ctx: Context, name: str, column: str) -> str:
    c = ctx.connection
    table = table_read(c, name)
    if any(i.unique and i.columns == (column,) for i in table.indexes.values()):
        return "already done"
    # The same statement a column's UNIQUE attribute makes in CREATE TABLE: the server
    # names the index after the column, as on a freshly migrated database.
    execute(c, f"ALTER TABLE {quote(c, name)} ADD UNIQUE ({quote(c, column)})")
    return "done"


def named_index_ensure(ctx: Context, name: str, named: NamedIndex) -> str:
    c = ctx.connection
    table = table_read(c, name)
    model = ctx.target.tables[name].model
    have = table.indexes.get(named.name)
    if have and have.columns == named.columns and have.unique == named.unique:
        return "already done"
    with c.schema_editor(atomic=False) as editor:
        if have:
            editor.execute(f"ALTER TABLE {quote(c, name)} DROP INDEX {quote(c, named.name)}")
        twin = None
        if not have:
            twin = index_twin(table, named, indexes_accounted(ctx.target, table, with_twins=False))
        if twin is not None and c.features.can_rename_index:
            # A site already indexed it under another name: keep the index, fix the name
            # (later migrations refer to it by name).
            editor.execute(
                f"ALTER TABLE {quote(c, name)} RENAME INDEX {quote(c, twin.name)} "
                f"TO {quote(c, named.name)}"
            )
            return f"renamed {twin.name}"
        if isinstance(named.definition, models.Index):
            editor.add_index(model, named.definition)
        else:
            editor.add_constraint(model, named.definition)
    return "done"


def foreign_key_ensure(ctx: Context) -> str:
    c = ctx.connection
    table = table_read(c, VIDEO)
    model = ctx.target.tables[VIDEO].model
    notes = []
    with c.schema_editor(atomic=False) as editor:
        for fk in table.foreign_keys:
            if fk.columns == ("ZONE_ID",) and not foreign_key_ok(fk):
                editor.execute(
                    f"ALTER TABLE {quote(c, VIDEO)} DROP FOREIGN KEY {quote(c, fk.name)}"
                )
                notes.append(f"dropped {fk.name}")
        if not any(foreign_key_ok(fk) for fk in table.foreign_keys):
            zone = model._meta.get_field("zone")
            # Django's own statement and name, as migrate would have made them (the schema
            # editor has no public method for a foreign key on an existing column).
            editor.execute(editor._create_fk_sql(model, zone, "_fk_%(to_table)s_%(to_column)s"))
            notes.append("added")
    return ", ".join(notes) or "already done"


def index_drop(ctx: Context, name: str, index: str) -> str:
    c = ctx.connection
    if index not in table_read(c, name).indexes:
        return "already done"
    execute(c, f"ALTER TABLE {quote(c, name)} DROP INDEX {quote(c, index)}")
    return "done"


def duplicates_move(ctx: Context) -> str:
    c = ctx.connection
    dup = quote(c, DUPLICATES_TABLE)
    # One statement, so a crash cannot leave a half-made table behind.
    execute(
        c,
        f"CREATE TABLE IF NOT EXISTS {dup} ("
        "`REASON` varchar(255) NOT NULL DEFAULT '', "
        "`MOVED_AT` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), "
        "KEY (`id`), KEY (`SESSIONID`)"
        f") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={ctx.target.collation} "
        "SELECT * FROM `VIDEO` WHERE 1 = 0",
    )
    columns = list(table_read(c, VIDEO).columns)
    names = ", ".join(quote(c, col) for col in columns)
    selected = ", ".join(f"v.{quote(c, col)}" for col in columns)
    with transaction.atomic(using=c.alias):
        moved = execute(
            c,
            f"INSERT INTO {dup} (`REASON`, {names}) "
            "SELECT CONCAT('same ZONE_ID and FILE_NAME as VIDEO.id=', k.keep_id), "
            f"{selected} FROM `VIDEO` v JOIN (SELECT ZONE_ID, {FILE_KEY} AS file_key, "
            f"MIN(id) AS keep_id FROM `VIDEO` GROUP BY ZONE_ID, {FILE_KEY} "
            "HAVING COUNT(*) > 1) k ON v.ZONE_ID = k.ZONE_ID "
            f"AND {FILE_KEY.replace('FILE_NAME', 'v.FILE_NAME')} = k.file_key "
            "AND v.id <> k.keep_id",
        )
        execute(c, f"DELETE v FROM `VIDEO` v JOIN {dup} d ON d.id = v.id")
    return f"moved {plural(moved, 'row')}"


def link_secrets_fill(ctx: Context) -> str:
    c = ctx.connection
    with transaction.atomic(using=c.alias):
        ids = [i for (i,) in fetch(c, "SELECT id FROM `CONFIG` WHERE `LINK_SECRET` = ''")]
        for zone_id in ids:
            execute(
                c,
                "UPDATE `CONFIG` SET `LINK_SECRET` = %s WHERE id = %s",
                [encrypt_value(link_secret_generate()), zone_id],
            )
    return f"{plural(len(ids), 'zone')} got a secret" if ids else "already done"
