"""What the old tables are: the seed's CONFIG and VIDEO, and how a live table is read.

``table_read`` takes the columns, indexes, foreign keys and check constraints of one table
from the server as it is at that moment; every phase compares against that, never against
what an earlier phase expected.
"""

# SQL here is assembled from quoted identifiers and this module's own constants.
# ruff: noqa: S608

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.backends.base.base import BaseDatabaseWrapper

from .exceptions import AdoptionError
from .sql import fetch, quote, scalar

CONFIG = "CONFIG"
VIDEO = "VIDEO"
DUPLICATES_TABLE = "VIDEO_ADOPT_DUPLICATES"

# The seed's CREATE TABLE statements; a table without these columns is not the seed's.
SEED_COLUMNS = {
    CONFIG: (
        "id",
        "ZONE",
        "SERVER",
        "USER",
        "RSA_KEY",
        "SPEED",
        "PATH_SRC",
        "PATH_DST",
        "TYPE_VIDEOFILE",
        "PUBLIC_ADDRESS",
        "PUBLIC_PORT",
    ),
    VIDEO: (
        "ZONE_ID",
        "PROJECTID",
        "SESSIONID",
        "FILE_NAME",
        "RECORDING_DATE",
        "DELETE_DATE",
        "STORAGE_DAYS",
    ),
}
INTEGER_TYPES = {"tinyint", "smallint", "mediumint", "int", "integer", "bigint"}
TEXT_TYPES = {"char", "varchar", "tinytext", "text", "mediumtext", "longtext"}
DATE_TYPES = {"date"}
# What each seed column may be before adoption; anything else is not a table the seed made.
SEED_COLUMN_KINDS = {
    (CONFIG, "id"): INTEGER_TYPES,
    (CONFIG, "SPEED"): TEXT_TYPES | INTEGER_TYPES,
    (CONFIG, "PUBLIC_PORT"): TEXT_TYPES | INTEGER_TYPES,
    (VIDEO, "ZONE_ID"): INTEGER_TYPES,
    (VIDEO, "RECORDING_DATE"): DATE_TYPES,
    (VIDEO, "DELETE_DATE"): DATE_TYPES,
    (VIDEO, "STORAGE_DAYS"): TEXT_TYPES | INTEGER_TYPES,
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    collation: str | None
    null: bool
    default: str | None
    extra: str

    @property
    def data_type(self) -> str:
        return re.split(r"[ (]", self.type.lower(), maxsplit=1)[0]

    @property
    def charset(self) -> str | None:
        return self.collation.split("_", 1)[0] if self.collation else None

    def signature(self) -> tuple:
        return (self.type.lower(), self.collation, self.null, self.default, self.extra.lower())

    def describe(self) -> str:
        parts = [self.type]
        if self.collation:
            parts.append(self.collation)
        parts.append("NULL" if self.null else "NOT NULL")
        if self.default is not None:
            parts.append(f"DEFAULT {self.default}")
        if self.extra:
            parts.append(self.extra)
        return " ".join(parts)


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]
    unique: bool


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    to_table: str
    to_columns: tuple[str, ...]
    update_rule: str
    delete_rule: str


@dataclass
class Table:
    name: str
    engine: str
    row_format: str
    collation: str
    columns: dict[str, Column]
    indexes: dict[str, Index]
    foreign_keys: list[ForeignKey]
    checks: set[str]
    rows: int


def check_normalise(clause: str) -> str:
    clause = " ".join(clause.split())
    while clause.startswith("(") and clause.endswith(")"):
        clause = clause[1:-1].strip()
    return clause


def legacy_tables_present(connection: BaseDatabaseWrapper) -> set[str]:
    return {CONFIG, VIDEO} & set(connection.introspection.table_names())


def columns_show(connection: BaseDatabaseWrapper, table: str) -> dict[str, Column]:
    # SHOW FULL COLUMNS renders current and target tables the same way, on any server version.
    out: dict[str, Column] = {}
    for row in fetch(connection, f"SHOW FULL COLUMNS FROM {quote(connection, table)}"):
        name, type_, collation, null, _key, default, extra = row[:7]
        out[name] = Column(name, type_, collation, null == "YES", default, extra or "")
    return out


def _indexes_read(connection: BaseDatabaseWrapper, name: str) -> dict[str, Index]:
    indexes: dict[str, Index] = {}
    for index_name, non_unique, column in fetch(
        connection,
        "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s ORDER BY INDEX_NAME, SEQ_IN_INDEX",
        [name],
    ):
        prev = indexes.get(index_name)
        cols = (*prev.columns, column) if prev else (column,)
        indexes[index_name] = Index(index_name, cols, not int(non_unique))
    return indexes


def _foreign_keys_read(connection: BaseDatabaseWrapper, name: str) -> list[ForeignKey]:
    fks: dict[str, ForeignKey] = {}
    for fk_name, column, to_table, to_column, upd, dele in fetch(
        connection,
        "SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, "
        "k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE "
        "FROM information_schema.KEY_COLUMN_USAGE k "
        "JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
        "ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
        "AND r.TABLE_NAME = k.TABLE_NAME "
        "WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = %s "
        "AND k.REFERENCED_TABLE_NAME IS NOT NULL ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        [name],
    ):
        prev = fks.get(fk_name)
        fks[fk_name] = ForeignKey(
            fk_name,
            (*prev.columns, column) if prev else (column,),
            to_table,
            (*prev.to_columns, to_column) if prev else (to_column,),
            upd,
            dele,
        )
    return list(fks.values())


def _checks_read(connection: BaseDatabaseWrapper, name: str) -> set[str]:
    if connection.mysql_is_mariadb:
        check_sql = (
            "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
            "WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = %s"
        )
    else:
        check_sql = (
            "SELECT c.CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS c "
            "JOIN information_schema.TABLE_CONSTRAINTS t "
            "ON t.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA "
            "AND t.CONSTRAINT_NAME = c.CONSTRAINT_NAME "
            "WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME = %s "
            "AND t.CONSTRAINT_TYPE = 'CHECK'"
        )
    return {check_normalise(c) for (c,) in fetch(connection, check_sql, [name])}


def table_read(connection: BaseDatabaseWrapper, name: str) -> Table:
    info = fetch(
        connection,
        "SELECT ENGINE, ROW_FORMAT, TABLE_COLLATION FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
        [name],
    )
    engine, row_format, collation = info[0]
    rows = scalar(connection, f"SELECT COUNT(*) FROM {quote(connection, name)}")
    return Table(
        name=name,
        engine=engine or "",
        row_format=row_format or "",
        collation=collation or "",
        columns=columns_show(connection, name),
        indexes=_indexes_read(connection, name),
        foreign_keys=_foreign_keys_read(connection, name),
        checks=_checks_read(connection, name),
        rows=int(rows),
    )


def seed_shape_check(tables: dict[str, Table]) -> None:
    """Refuse tables the seed did not make: missing columns, other types, other keys."""
    problems = []
    for name, table in tables.items():
        missing = [c for c in SEED_COLUMNS[name] if c not in table.columns]
        if missing:
            problems.append(f"{name} has no column {', '.join(missing)}")
        for (t, c), kinds in SEED_COLUMN_KINDS.items():
            if t == name and c in table.columns and table.columns[c].data_type not in kinds:
                problems.append(f"{name}.{c} is {table.columns[c].type}")
    if problems:
        raise AdoptionError(
            "CONFIG/VIDEO do not look like the seed's tables: " + "; ".join(problems)
        )
    config_pk = tables[CONFIG].indexes.get("PRIMARY")
    if not config_pk or config_pk.columns != ("id",):
        raise AdoptionError(
            "CONFIG/VIDEO do not look like the seed's tables: CONFIG.id is not the primary key"
        )
    video_pk = tables[VIDEO].indexes.get("PRIMARY")
    if video_pk and video_pk.columns != ("id",):
        raise AdoptionError(
            "CONFIG/VIDEO do not look like the seed's tables: VIDEO has a primary key on "
            + ", ".join(video_pk.columns)
        )
    if "id" in tables[VIDEO].columns and not video_pk:
        raise AdoptionError(
            "CONFIG/VIDEO do not look like the seed's tables: VIDEO.id exists but is not the "
            "primary key"
        )
