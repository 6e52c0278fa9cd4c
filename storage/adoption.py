"""Bring a database the old system filled (tables CONFIG and VIDEO) under this project's migrations.

Sites already run the old system, so their database cannot be recreated: the tables are
changed in place until they are exactly what ``migrate`` creates for ``zones.0001_initial``
and ``storage.0001_initial`` on an empty database, and those two migrations are then recorded
as applied so that ``migrate`` carries on from there.

The work is split into inspect → plan → execute. MySQL/MariaDB DDL is not transactional, so
a run can stop between two statements (a crash, a killed session, ``--max-steps``). Every step
therefore works out what it still has to do from the database as it is at that moment, and a
step that is already satisfied is never planned: running the command again after any kind of
interruption re-inspects and continues. After the plan the database is inspected once more and
anything still missing is planned again; only when nothing is left are the migrations recorded.

Column definitions are never written here by hand: they come from the historical models of the
two initial migrations and Django's schema editor, and the server's own rendering of them (a
temporary table created from Django's ``CREATE TABLE``) is the yardstick every existing column
is compared with. That keeps the result identical to a fresh ``migrate`` on this very server
version, whatever it prints ``int`` as.

Old data is assumed to be as messy as the old clients could make it; each cleaning step says
what it found and what it did, and nothing the old clients wrote is deleted: duplicate VIDEO
rows are moved to ``VIDEO_ADOPT_DUPLICATES``, videos of a missing zone get a disabled
placeholder zone with that id.
"""

# SQL here is assembled from quoted identifiers and this module's own constants; every value
# read from the database goes as a query parameter.
# ruff: noqa: S608

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import DatabaseError, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from zones.fields import (
    FieldDecryptionError,
    decrypt_value,
    encrypt_value,
    field_fernet,
    is_legacy_plaintext,
)
from zones.services import link_secret_generate
from zones.validators import zone_name_validator

ADOPTED_MIGRATIONS = (("zones", "0001_initial"), ("storage", "0001_initial"))
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
_INTEGER_TYPES = {"tinyint", "smallint", "mediumint", "int", "integer", "bigint"}
_TEXT_TYPES = {"char", "varchar", "tinytext", "text", "mediumtext", "longtext"}
_DATE_TYPES = {"date"}
# What each seed column may be before adoption; anything else is not a table the seed made.
_SEED_COLUMN_KINDS = {
    (CONFIG, "id"): _INTEGER_TYPES,
    (CONFIG, "SPEED"): _TEXT_TYPES | _INTEGER_TYPES,
    (CONFIG, "PUBLIC_PORT"): _TEXT_TYPES | _INTEGER_TYPES,
    (VIDEO, "ZONE_ID"): _INTEGER_TYPES,
    (VIDEO, "RECORDING_DATE"): _DATE_TYPES,
    (VIDEO, "DELETE_DATE"): _DATE_TYPES,
    (VIDEO, "STORAGE_DAYS"): _TEXT_TYPES | _INTEGER_TYPES,
}

# The seed README's example value: what the old clients would most likely have used.
DEFAULT_SPEED_KBPS = 3000
MAX_SPEED_KBPS = 99_999
MAX_PORT = 65_535
MAX_STORAGE_DAYS = 65_535  # smallint unsigned: every value the new column can hold is kept

PLACEHOLDER_SERVER = "orphan.invalid"  # .invalid never resolves (RFC 2606)
PLACEHOLDER_PATH = "/nonexistent"
ZONE_NAME_MAX = 20
EXAMPLES = 5

ROTATE_HINT = (
    "{n} zone keys are stored in plain text; run `manage.py rotate_field_keys` once the old "
    "clients are replaced"
)


class AdoptionError(Exception):
    """The database cannot be adopted as it is; the message says why, in one line."""


# --- what the database looks like -----------------------------------------------------------


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
class Finding:
    text: str
    examples: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [self.text]
        if self.examples:
            out.append("    e.g. " + "; ".join(self.examples))
        return out


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
    planner: _Planner | None = field(default=None, repr=False)


@dataclass
class AdoptionOutcome:
    done: list[str] = field(default_factory=list)
    stopped_early: bool = False
    attention: list[Finding] = field(default_factory=list)


# --- helpers --------------------------------------------------------------------------------


def _q(connection: BaseDatabaseWrapper, name: str) -> str:
    return connection.ops.quote_name(name)


def _rows(connection: BaseDatabaseWrapper, sql: str, params: list | tuple | None = None) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _scalar(connection: BaseDatabaseWrapper, sql: str, params: list | tuple | None = None):
    rows = _rows(connection, sql, params)
    return rows[0][0] if rows else None


def _execute(connection: BaseDatabaseWrapper, sql: str, params: list | tuple | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _safe_identifier(value: str) -> str:
    # Collation names come from the server; still, nothing unchecked is spliced into SQL.
    if not re.fullmatch(r"[A-Za-z0-9_]+", value or ""):
        raise AdoptionError(f"unexpected collation name from the server: {value!r}")
    return value


def _normalise_check(clause: str) -> str:
    clause = " ".join(clause.split())
    while clause.startswith("(") and clause.endswith(")"):
        clause = clause[1:-1].strip()
    return clause


def _show(value) -> str:
    if value is None:
        return "NULL"
    return repr(value if isinstance(value, str) else str(value))


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# --- inspection -----------------------------------------------------------------------------


def _table(connection: BaseDatabaseWrapper, name: str) -> Table:
    info = _rows(
        connection,
        "SELECT ENGINE, ROW_FORMAT, TABLE_COLLATION FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
        [name],
    )
    engine, row_format, collation = info[0]
    columns = _show_columns(connection, name)
    indexes: dict[str, Index] = {}
    for index_name, non_unique, column in _rows(
        connection,
        "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s ORDER BY INDEX_NAME, SEQ_IN_INDEX",
        [name],
    ):
        prev = indexes.get(index_name)
        cols = (*prev.columns, column) if prev else (column,)
        indexes[index_name] = Index(index_name, cols, not int(non_unique))
    fks: dict[str, ForeignKey] = {}
    for fk_name, column, to_table, to_column, upd, dele in _rows(
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
    checks = {_normalise_check(c) for (c,) in _rows(connection, check_sql, [name])}
    rows = _scalar(connection, f"SELECT COUNT(*) FROM {_q(connection, name)}")
    return Table(
        name=name,
        engine=engine or "",
        row_format=row_format or "",
        collation=collation or "",
        columns=columns,
        indexes=indexes,
        foreign_keys=list(fks.values()),
        checks=checks,
        rows=int(rows),
    )


def _show_columns(connection: BaseDatabaseWrapper, table: str) -> dict[str, Column]:
    # SHOW FULL COLUMNS renders current and target tables the same way, on any server version.
    out: dict[str, Column] = {}
    for row in _rows(connection, f"SHOW FULL COLUMNS FROM {_q(connection, table)}"):
        name, type_, collation, null, _key, default, extra = row[:7]
        out[name] = Column(name, type_, collation, null == "YES", default, extra or "")
    return out


def _target_collation(connection: BaseDatabaseWrapper) -> tuple[str, str, str]:
    """(database charset, database collation, collation the two tables should end up with).

    ``migrate`` creates tables with the database's defaults. The seed's tables are utf8mb3,
    and the project talks utf8mb4; when the database default is not utf8mb4 either, the
    server's utf8mb4 default is used and the database default is changed to it as well, so
    the tables ``migrate`` creates afterwards match.
    """
    db_charset, db_collation = _rows(
        connection,
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
        "information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()",
    )[0]
    if db_charset == "utf8mb4":
        return db_charset, db_collation, _safe_identifier(db_collation)
    server = _scalar(connection, "SELECT @@collation_server")
    if server and server.startswith("utf8mb4_"):
        return db_charset, db_collation, _safe_identifier(server)
    default = _scalar(
        connection,
        "SELECT DEFAULT_COLLATE_NAME FROM information_schema.CHARACTER_SETS "
        "WHERE CHARACTER_SET_NAME = 'utf8mb4'",
    )
    return db_charset, db_collation, _safe_identifier(default)


def _historical_models() -> dict[str, type[models.Model]]:
    """Zone and Video exactly as the two initial migrations define them (not as models.py
    defines them today: a later migration may have changed them, and it will run afterwards)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    apps = loader.project_state(list(ADOPTED_MIGRATIONS), at_end=True).apps
    return {CONFIG: apps.get_model("zones", "Zone"), VIDEO: apps.get_model("storage", "Video")}


def _target_table(
    connection: BaseDatabaseWrapper, model: type[models.Model], collation: str
) -> TargetTable:
    table = model._meta.db_table
    temp = f"_opvideo_adopt_target_{table}"
    with connection.schema_editor(collect_sql=True) as editor:
        create_sql, params = editor.table_sql(model)
    prefix = f"CREATE TABLE {_q(connection, table)}"
    if not create_sql.startswith(prefix):
        raise AdoptionError(f"unexpected CREATE TABLE from Django for {table}")
    create_sql = (
        f"CREATE TEMPORARY TABLE {_q(connection, temp)}{create_sql[len(prefix) :]}"
        f" DEFAULT CHARSET=utf8mb4 COLLATE={collation}"
    )
    # A temporary table lives only in this session: nothing anyone else can see is created.
    _execute(connection, f"DROP TEMPORARY TABLE IF EXISTS {_q(connection, temp)}")
    try:
        _execute(connection, create_sql, params)
        columns = _show_columns(connection, temp)
    finally:
        _execute(connection, f"DROP TEMPORARY TABLE IF EXISTS {_q(connection, temp)}")
    checks = {}
    for f in model._meta.local_fields:
        check = f.db_parameters(connection=connection)["check"]
        if check:
            checks[f.column] = _normalise_check(check)
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


def _is_adopted(connection: BaseDatabaseWrapper) -> bool:
    recorder = MigrationRecorder(connection)
    return recorder.has_table() and ADOPTED_MIGRATIONS[0] in recorder.applied_migrations()


# --- data checks (SQL that works whether a column is still text or already an integer) -------


def _valid_int_sql(column: str, low: int, high: int) -> str:
    """A boolean: the value is a plain decimal number within [low, high].

    The CASE keeps CAST away from non-numbers: in strict mode a bad CAST inside an UPDATE is
    an error, not a warning.
    """
    digits = len(str(high))
    trimmed = f"TRIM({column})"
    return (
        f"(CASE WHEN {trimmed} REGEXP '^[0-9]{{1,{digits}}}$' "
        f"THEN CAST({trimmed} AS UNSIGNED) BETWEEN {low} AND {high} ELSE 0 END)"
    )


def _noncanonical_int_sql(column: str, low: int, high: int) -> str:
    """A boolean: a valid number written with spaces or leading zeros (' 500', '030')."""
    return (
        f"(CASE WHEN {_valid_int_sql(column, low, high)} THEN CAST({column} AS CHAR) <> "
        f"CAST(CAST(TRIM({column}) AS UNSIGNED) AS CHAR) ELSE 0 END)"
    )


@dataclass(frozen=True)
class _IntRule:
    table: str
    column: str
    low: int
    high: int
    replacement: int | None  # None → NULL
    key_sql: str  # how an example row is named in the report
    meaning: str


_SPEED_RULE = _IntRule(
    table=CONFIG,
    column="SPEED",
    low=1,
    high=MAX_SPEED_KBPS,
    replacement=DEFAULT_SPEED_KBPS,
    key_sql="CONCAT('id=', id)",
    meaning=f"not a positive integer ≤ {MAX_SPEED_KBPS}",
)
_PORT_RULE = _IntRule(
    table=CONFIG,
    column="PUBLIC_PORT",
    low=1,
    high=MAX_PORT,
    replacement=None,
    key_sql="CONCAT('id=', id)",
    meaning=f"empty, not a number or outside 1..{MAX_PORT}",
)
_STORAGE_DAYS_RULE = _IntRule(
    table=VIDEO,
    column="STORAGE_DAYS",
    low=0,
    high=MAX_STORAGE_DAYS,
    replacement=None,
    key_sql="SESSIONID",
    meaning="empty, not a number, negative or too large",
)


def _int_rule_counts(connection: BaseDatabaseWrapper, rule: _IntRule) -> tuple[int, int, list]:
    """(invalid values, values to normalise, examples of invalid values)."""
    col = _q(connection, rule.column)
    table = _q(connection, rule.table)
    valid = _valid_int_sql(col, rule.low, rule.high)
    noncanonical = _noncanonical_int_sql(col, rule.low, rule.high)
    bad, noncanonical = _rows(
        connection,
        f"SELECT COALESCE(SUM(NOT {valid}), 0), COALESCE(SUM({noncanonical}), 0) "
        f"FROM {table} WHERE {col} IS NOT NULL",
    )[0]
    examples = []
    if bad:
        examples = _rows(
            connection,
            f"SELECT {rule.key_sql}, {col} FROM {table} WHERE {col} IS NOT NULL AND NOT {valid} "
            f"LIMIT {EXAMPLES}",
        )
    return int(bad), int(noncanonical), [f"{_show(k)}: {_show(v)}" for k, v in examples]


def _int_rule_apply(connection: BaseDatabaseWrapper, rule: _IntRule) -> int:
    col = _q(connection, rule.column)
    valid = _valid_int_sql(col, rule.low, rule.high)
    replacement = "NULL" if rule.replacement is None else f"'{int(rule.replacement)}'"
    with transaction.atomic(using=connection.alias):
        return _execute(
            connection,
            f"UPDATE {_q(connection, rule.table)} SET {col} = CASE WHEN {valid} "
            f"THEN CAST(CAST(TRIM({col}) AS UNSIGNED) AS CHAR) ELSE {replacement} END "
            f"WHERE {col} IS NOT NULL AND (NOT {valid} OR "
            f"{_noncanonical_int_sql(col, rule.low, rule.high)})",
        )


def _zone_clashes(connection: BaseDatabaseWrapper, collation: str) -> list[tuple[int, str, int]]:
    """Zones whose name an earlier zone already has: (id, name, id of the earlier zone).

    Names are compared trimmed and case-insensitively, and also the way the unique index will
    compare them (the target collation), so the index can always be created afterwards.
    """

    def key(alias: str) -> str:
        return f"CONVERT(TRIM({alias}.`ZONE`) USING utf8mb4) COLLATE {collation}"

    return [
        (int(i), name, int(first))
        for i, name, first in _rows(
            connection,
            "SELECT a.id, a.`ZONE`, MIN(b.id) FROM `CONFIG` a JOIN `CONFIG` b ON b.id < a.id "
            f"AND (LOWER({key('a')}) = LOWER({key('b')}) OR {key('a')} = {key('b')}) "
            "GROUP BY a.id, a.`ZONE` ORDER BY a.id",
        )
    ]


def _renamed(name: str, zone_id: int) -> str:
    suffix = f"-{zone_id}"
    return (name.strip() or "zone")[: ZONE_NAME_MAX - len(suffix)] + suffix


def _orphans(connection: BaseDatabaseWrapper) -> list[tuple[int, int]]:
    """(ZONE_ID, number of videos) for videos whose zone has no CONFIG row."""
    return [
        (int(z), int(n))
        for z, n in _rows(
            connection,
            "SELECT v.ZONE_ID, COUNT(*) FROM `VIDEO` v LEFT JOIN `CONFIG` c ON c.id = v.ZONE_ID "
            "WHERE c.id IS NULL GROUP BY v.ZONE_ID ORDER BY v.ZONE_ID",
        )
    ]


_FILE_KEY = "CONVERT(FILE_NAME USING utf8mb4) COLLATE utf8mb4_bin"
_SESSION_KEY = "CONVERT(SESSIONID USING utf8mb4) COLLATE utf8mb4_bin"


def _video_duplicates(connection: BaseDatabaseWrapper) -> tuple[int, int, list[str]]:
    """(groups, surplus rows, groups whose rows name different session ids).

    Compared the way the new unique index compares: byte for byte (utf8mb4_bin), because file
    names on Linux are case-sensitive.
    """
    groups, surplus = _rows(
        connection,
        "SELECT COUNT(*), COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) n FROM `VIDEO` "
        f"GROUP BY ZONE_ID, {_FILE_KEY} HAVING n > 1) g",
    )[0]
    conflicts = _rows(
        connection,
        f"SELECT ZONE_ID, MIN(FILE_NAME), GROUP_CONCAT(DISTINCT {_SESSION_KEY} SEPARATOR ', ') "
        f"FROM `VIDEO` GROUP BY ZONE_ID, {_FILE_KEY} "
        f"HAVING COUNT(*) > 1 AND COUNT(DISTINCT {_SESSION_KEY}) > 1 LIMIT {EXAMPLES}",
    )
    return (
        int(groups),
        int(surplus),
        [f"ZONE_ID={z} {name!r}: {sessions}" for z, name, sessions in conflicts],
    )


# --- the plan -------------------------------------------------------------------------------


class _Planner:
    """Builds the steps from the database as it is now. Used again after each pass."""

    def __init__(self, connection: BaseDatabaseWrapper):
        self.connection = connection
        self.collation = _target_collation(connection)[2]
        try:
            row_format = _scalar(connection, "SELECT @@GLOBAL.innodb_default_row_format")
        except DatabaseError:  # MySQL < 5.7.9: no such variable, no rebuild for it
            row_format = ""
        self.default_row_format = str(row_format or "").lower()
        hist = _historical_models()
        self.target = {
            name: _target_table(connection, model, self.collation) for name, model in hist.items()
        }
        # What the actions did that a person should know about (shown in the summary).
        self.notes: list[Finding] = []

    # ---- inspection + sanity ------------------------------------------------------------

    def inspect(self) -> dict[str, Table]:
        tables = {name: _table(self.connection, name) for name in (CONFIG, VIDEO)}
        problems = []
        for name, table in tables.items():
            missing = [c for c in SEED_COLUMNS[name] if c not in table.columns]
            if missing:
                problems.append(f"{name} has no column {', '.join(missing)}")
            for (t, c), kinds in _SEED_COLUMN_KINDS.items():
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
        self._check_values_fit(tables)
        return tables

    def _check_values_fit(self, tables: dict[str, Table]) -> None:
        """Refuse up front what strict mode would refuse halfway: NULLs in a NOT NULL column and
        text longer than the target column (only possible if a site changed the seed's schema)."""
        problems = []
        for name, table in tables.items():
            target = self.target[name]
            for column, current in table.columns.items():
                wanted = target.columns.get(column)
                if wanted is None:
                    continue
                col = _q(self.connection, column)
                tbl = _q(self.connection, name)
                if current.null and not wanted.null:
                    n = _scalar(self.connection, f"SELECT COUNT(*) FROM {tbl} WHERE {col} IS NULL")
                    if n:
                        problems.append(f"{name}.{column} is empty (NULL) in {n} rows")
                f = target.field_for(column)
                length = re.fullmatch(r"(?:var)?char\((\d+)\)", current.type.lower())
                narrower = not length or int(length.group(1)) > (f.max_length or 0)
                if (
                    isinstance(f, models.CharField)
                    and current.data_type in _TEXT_TYPES
                    and narrower
                ):
                    n = _scalar(
                        self.connection,
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

    # ---- steps -----------------------------------------------------------------------------

    def build(self, tables: dict[str, Table], plan: AdoptionPlan) -> None:
        c = self.connection
        config, video = tables[CONFIG], tables[VIDEO]
        steps = plan.steps

        db_charset, db_collation, _ = _target_collation(c)  # now, not when planning began
        if db_charset != "utf8mb4":
            steps.append(
                Step(
                    f"database: set the default character set to utf8mb4 ({self.collation}), "
                    f"was {db_collation}",
                    self._alter_database,
                )
            )
        for table in (config, video):
            # Old servers made COMPACT tables, whose index keys are too short for the
            # (ZONE_ID, FILE_NAME) unique index; a rebuild takes the server's default.
            old_format = table.row_format.lower() in ("compact", "redundant")
            if table.engine.lower() != "innodb" or (
                old_format and self.default_row_format not in ("", table.row_format.lower())
            ):
                steps.append(
                    Step(
                        f"{table.name}: rebuild as InnoDB with the default row format "
                        f"(was {table.engine}, {table.row_format})",
                        lambda t=table.name: self._rebuild_innodb(t),
                    )
                )
        converted = set()
        for table in (config, video):
            if self._needs_conversion(table):
                converted.add(table.name)
                steps.append(
                    Step(
                        f"{table.name}: convert to utf8mb4 ({self.collation}), "
                        f"was {table.collation}",
                        lambda t=table.name: self._convert(t),
                    )
                )

        # CONFIG: clean the values the type changes would reject, then change the columns.
        for rule in (_SPEED_RULE, _PORT_RULE):
            self._plan_int_rule(rule, plan)
        self._plan_add_columns(config, plan)
        self._plan_modify(config, CONFIG in converted, plan)

        orphans = _orphans(c)
        if orphans:
            ids = ", ".join(str(z) for z, _ in orphans)
            total = sum(n for _, n in orphans)
            plan.changes.append(
                Finding(
                    f"{_plural(total, 'video')} of {_plural(len(orphans), 'zone id')} with no "
                    f"CONFIG row ({ids}) → a disabled placeholder zone 'orphan-<id>' is created "
                    "with each id, so those videos stay findable"
                )
            )
            steps.append(
                Step(
                    f"CONFIG: create disabled placeholder zones with ids {ids}",
                    self._create_placeholders,
                )
            )
        clashes = _zone_clashes(c, self.collation)
        names = {
            (n or "").strip().lower()
            for (n,) in _rows(c, "SELECT `ZONE` FROM `CONFIG`")  # placeholders may clash too
        }
        placeholder_clash = any(f"orphan-{z}" in names for z, _ in orphans)
        if clashes or placeholder_clash:
            if clashes:
                plan.changes.append(
                    Finding(
                        f"zone names that repeat an earlier zone's (compared trimmed, ignoring "
                        f"case): {len(clashes)} → renamed '<name>-<id>'",
                        [
                            f"id={i} {n!r} (same as id={first}) → {_renamed(n, i)!r}"
                            for i, n, first in clashes[:EXAMPLES]
                        ],
                    )
                )
            steps.append(
                Step(
                    "CONFIG: rename zones whose name repeats an earlier zone's",
                    self._rename_clashes,
                )
            )
        self._plan_indexes(config, plan)
        self._plan_link_secrets(config, bool(orphans), plan)

        # VIDEO
        self._plan_int_rule(_STORAGE_DAYS_RULE, plan)
        empty_days = _scalar(
            c, "SELECT COUNT(*) FROM `VIDEO` WHERE TRIM(CAST(STORAGE_DAYS AS CHAR)) = ''"
        )
        if empty_days:
            plan.attention.append(
                Finding(
                    f"{_plural(empty_days, 'video')} with STORAGE_DAYS '' — if the old clients "
                    "still send '', their INSERTs fail once the column is a number (the server "
                    "is in strict mode): make them send NULL or a number before adopting"
                )
            )
        if "id" not in video.columns:
            steps.append(
                Step(
                    f"VIDEO: add the primary key id (bigint AUTO_INCREMENT; the "
                    f"{_plural(video.rows, 'existing row')} get 1, 2, … in table order)",
                    lambda: self._add_columns(VIDEO, only=["id"]),
                )
            )
        self._plan_add_columns(video, plan, skip=["id"])
        self._plan_modify(video, VIDEO in converted, plan)
        groups, surplus, conflicts = _video_duplicates(c)
        if surplus:
            plan.changes.append(
                Finding(
                    f"VIDEO rows with the same (ZONE_ID, FILE_NAME) as another: {surplus} in "
                    f"{_plural(groups, 'group')} → the lowest id stays in VIDEO, the others move "
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
            steps.append(
                Step(
                    f"VIDEO: move {_plural(surplus, 'duplicate row')} to {DUPLICATES_TABLE}",
                    self._move_duplicates,
                )
            )
        self._plan_indexes(video, plan)
        self._plan_foreign_key(video, plan)
        self._plan_redundant_indexes(config, plan)
        self._plan_redundant_indexes(video, plan)
        self._plan_extra_columns(tables, plan)

    def _needs_conversion(self, table: Table) -> bool:
        if table.collation != self.collation:
            return True
        return any(col.charset not in (None, "utf8mb4") for col in table.columns.values())

    def _plan_int_rule(self, rule: _IntRule, plan: AdoptionPlan) -> None:
        bad, noncanonical, examples = _int_rule_counts(self.connection, rule)
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
                    lambda: f"{_int_rule_apply(self.connection, rule)} rows updated",
                )
            )

    def _plan_add_columns(self, table: Table, plan: AdoptionPlan, skip=()) -> None:
        target = self.target[table.name]
        missing = [c for c in target.columns if c not in table.columns and c not in skip]
        if missing:
            plan.steps.append(
                Step(
                    f"{table.name}: add {', '.join(missing)} (with their database defaults)",
                    lambda t=table.name: self._add_columns(t, skip=skip),
                )
            )

    def _modifications(self, table: Table, assume_converted: bool) -> list[tuple[Column, Column]]:
        target = self.target[table.name]
        out = []
        for name, wanted in target.columns.items():
            current = table.columns.get(name)
            if current is None:
                continue
            seen = current
            if assume_converted and current.collation:
                seen = replace(current, collation=self.collation)
            check = target.checks.get(name)
            if seen.signature() != wanted.signature() or (check and check not in table.checks):
                out.append((current, wanted))
        return out

    def _describe_change(self, table: Table, current: Column, wanted: Column) -> str:
        check = self.target[table.name].checks.get(current.name)
        if current.describe() == wanted.describe() and check and check not in table.checks:
            return f"{current.name}: add CHECK ({check})"
        return f"{current.name}: {current.describe()} → {wanted.describe()}"

    def _plan_modify(self, table: Table, assume_converted: bool, plan: AdoptionPlan) -> None:
        mods = self._modifications(table, assume_converted)
        if mods:
            plan.steps.append(
                Step(
                    f"{table.name}: change {_plural(len(mods), 'column')} to the project's "
                    "definitions (one ALTER TABLE)",
                    lambda t=table.name: self._modify_columns(t),
                    details=[self._describe_change(table, cur, want) for cur, want in mods],
                )
            )

    def _plan_link_secrets(self, config: Table, placeholders: bool, plan: AdoptionPlan) -> None:
        if "LINK_SECRET" in config.columns:
            empty = _scalar(
                self.connection, "SELECT COUNT(*) FROM `CONFIG` WHERE `LINK_SECRET` = ''"
            )
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
                    self._link_secrets,
                )
            )

    def _plan_indexes(self, table: Table, plan: AdoptionPlan) -> None:
        target = self.target[table.name]
        by_name = table.indexes
        for col in target.unique_columns:
            if not any(i.unique and i.columns == (col,) for i in by_name.values()):
                plan.steps.append(
                    Step(
                        f"{table.name}: add the unique index on {col}",
                        lambda t=table.name, col=col: self._add_unique_column(t, col),
                    )
                )
        for named in target.named_indexes:
            have = by_name.get(named.name)
            if have and have.columns == named.columns and have.unique == named.unique:
                continue
            kind = "unique constraint" if named.unique else "index"
            twin = None
            if not have:
                twin = self._twin(table, named, self._accounted(table, with_twins=False))
            if twin and self.connection.features.can_rename_index:
                title = f"{table.name}: rename index {twin.name} to {named.name}"
            else:
                title = f"{table.name}: add the {kind} {named.name} on ({', '.join(named.columns)})"
            plan.steps.append(
                Step(title, lambda t=table.name, n=named: self._ensure_named_index(t, n))
            )

    def _plan_foreign_key(self, video: Table, plan: AdoptionPlan) -> None:
        good = [fk for fk in video.foreign_keys if self._fk_ok(fk)]
        bad = [fk for fk in video.foreign_keys if fk.columns == ("ZONE_ID",) and fk not in good]
        if good and not bad:
            return
        what = (
            f"replace {', '.join(fk.name for fk in bad)} (not a plain reference to CONFIG.id)"
            if bad
            else "add the foreign key ZONE_ID → CONFIG.id"
        )
        plan.steps.append(Step(f"VIDEO: {what}", self._ensure_foreign_key))

    @staticmethod
    def _fk_ok(fk: ForeignKey) -> bool:
        return (
            fk.columns == ("ZONE_ID",)
            and fk.to_table == CONFIG
            and fk.to_columns == ("id",)
            and fk.update_rule in ("RESTRICT", "NO ACTION")
            and fk.delete_rule in ("RESTRICT", "NO ACTION")
        )

    def _twin(self, table: Table, named: NamedIndex, accounted: set[str]) -> Index | None:
        """An index a site already made with a named target's columns, under another name."""
        return next(
            (
                i
                for i in table.indexes.values()
                if i.name not in accounted
                and (i.columns, i.unique) == (named.columns, named.unique)
            ),
            None,
        )

    def _accounted(self, table: Table, *, with_twins: bool = True) -> set[str]:
        """Names of the indexes that are (or, with_twins, will be renamed to) the target's own."""
        target = self.target[table.name]
        accounted = {"PRIMARY"} | {n.name for n in target.named_indexes if n.name in table.indexes}
        for col in target.unique_columns:
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
        for named in target.named_indexes:
            if with_twins and named.name not in table.indexes:
                twin = self._twin(table, named, accounted)
                if twin:
                    accounted.add(twin.name)
        return accounted

    def _extra_indexes(self, table: Table) -> tuple[list[Index], list[Index]]:
        """(indexes to drop, indexes to keep and report) among those the target does not have.

        A non-unique index whose columns start a target index (the seed's VIDEO_FK on ZONE_ID,
        once (ZONE_ID, FILE_NAME) is unique) only costs writes, and a fresh database does not
        have it: it goes. Anything else a site added on purpose is kept and reported.
        """
        accounted = self._accounted(table)
        wanted = self.target[table.name].all_index_columns()
        drop, keep = [], []
        for index in table.indexes.values():
            if index.name in accounted:
                continue
            covered = any(cols[: len(index.columns)] == index.columns for cols, _ in wanted)
            (drop if covered and not index.unique else keep).append(index)
        return drop, keep

    def _plan_redundant_indexes(self, table: Table, plan: AdoptionPlan) -> None:
        drop, keep = self._extra_indexes(table)
        for index in drop:
            plan.steps.append(
                Step(
                    f"{table.name}: drop index {index.name} on ({', '.join(index.columns)}), "
                    "covered by the project's indexes",
                    lambda t=table.name, n=index.name: self._drop_index(t, n),
                )
            )
        for index in keep:
            plan.attention.append(
                Finding(
                    f"{table.name}: index {index.name} on ({', '.join(index.columns)}) is not part "
                    "of the project's schema; kept"
                )
            )

    def _plan_extra_columns(self, tables: dict[str, Table], plan: AdoptionPlan) -> None:
        for name, table in tables.items():
            extra = [c for c in table.columns.values() if c.name not in self.target[name].columns]
            for col in extra:
                blocking = (
                    not col.null and col.default is None and "auto_increment" not in col.extra
                )
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

    # ---- actions (each works out from the live database what is still to do) -----------------

    def _live(self, name: str) -> Table:
        return _table(self.connection, name)

    def _alter_database(self) -> str:
        db = self.connection.settings_dict["NAME"]
        _execute(
            self.connection,
            f"ALTER DATABASE {_q(self.connection, db)} CHARACTER SET utf8mb4 "
            f"COLLATE {self.collation}",
        )
        return "done"

    def _rebuild_innodb(self, name: str) -> str:
        table = _q(self.connection, name)
        _execute(self.connection, f"ALTER TABLE {table} ENGINE=InnoDB ROW_FORMAT=DEFAULT")
        return "done"

    def _convert(self, name: str) -> str:
        if not self._needs_conversion(self._live(name)):
            return "already done"
        _execute(
            self.connection,
            f"ALTER TABLE {_q(self.connection, name)} CONVERT TO CHARACTER SET utf8mb4 "
            f"COLLATE {self.collation}",
        )
        return "done"

    def _add_columns(self, name: str, only=None, skip=()) -> str:
        target = self.target[name]
        table = self._live(name)
        added = []
        with self.connection.schema_editor(atomic=False) as editor:
            for f in target.model._meta.local_fields:
                if f.column in table.columns or f.column in skip:
                    continue
                if only is not None and f.column not in only:
                    continue
                # add_field writes the column with its db_default, exactly as migrate would.
                editor.add_field(target.model, f)
                added.append(f.column)
        return f"added {', '.join(added)}" if added else "already done"

    def _column_definition(self, editor, model: type[models.Model], f: models.Field):
        definition, params = editor.column_sql(model, f)
        # Keys are separate steps; a MODIFY must not try to add a second primary/unique key.
        definition = definition.removesuffix(" PRIMARY KEY").removesuffix(" UNIQUE")
        if suffix := f.db_type_suffix(connection=self.connection):
            definition += f" {suffix}"
        db_params = f.db_parameters(connection=self.connection)
        if db_params["check"]:
            definition += " " + editor.sql_check_constraint % db_params
        return definition, params

    def _modify_columns(self, name: str) -> str:
        table = self._live(name)
        mods = self._modifications(table, assume_converted=False)
        if not mods:
            return "already done"
        target = self.target[name]
        clauses, params = [], []
        with self.connection.schema_editor(atomic=False) as editor:
            for current, _wanted in mods:
                definition, p = self._column_definition(
                    editor, target.model, target.field_for(current.name)
                )
                clauses.append(f"MODIFY {_q(self.connection, current.name)} {definition}")
                params.extend(p)
            editor.execute(
                f"ALTER TABLE {_q(self.connection, name)} " + ", ".join(clauses), params or None
            )
        return f"changed {', '.join(cur.name for cur, _ in mods)}"

    def _create_placeholders(self) -> str:
        c = self.connection
        orphans = _orphans(c)
        if not orphans:
            return "already done"
        saved = _scalar(c, "SELECT @@SESSION.sql_mode")
        try:
            # An orphan ZONE_ID of 0 must become id 0, not the next AUTO_INCREMENT value.
            _execute(
                c, "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_AUTO_VALUE_ON_ZERO')"
            )
            with transaction.atomic(using=c.alias):
                for zone_id, _n in orphans:
                    _execute(
                        c,
                        "INSERT INTO `CONFIG` (id, `ZONE`, `SERVER`, `USER`, `RSA_KEY`, `SPEED`, "
                        "`PATH_SRC`, `PATH_DST`, `TYPE_VIDEOFILE`, `ENABLED`) "
                        "VALUES (%s, %s, %s, %s, '', %s, %s, %s, 'mp4', 0)",
                        [
                            zone_id,
                            f"orphan-{zone_id}",
                            PLACEHOLDER_SERVER,
                            "orphan",
                            DEFAULT_SPEED_KBPS,
                            PLACEHOLDER_PATH,
                            PLACEHOLDER_PATH,
                        ],
                    )
        finally:
            _execute(c, "SET SESSION sql_mode = %s", [saved])
        return "created " + ", ".join(f"orphan-{z} ({_plural(n, 'video')})" for z, n in orphans)

    def _rename_clashes(self) -> str:
        c = self.connection
        renamed = []
        with transaction.atomic(using=c.alias):
            for _round in range(10):
                clashes = _zone_clashes(c, self.collation)
                if not clashes:
                    break
                for zone_id, name, _first in clashes:
                    new = _renamed(name, zone_id)
                    _execute(c, "UPDATE `CONFIG` SET `ZONE` = %s WHERE id = %s", [new, zone_id])
                    renamed.append(f"id={zone_id} {name!r} → {new!r}")
            else:
                raise AdoptionError("zone names still repeat after 10 rounds of renaming")
        if renamed:
            self.notes.append(
                Finding(
                    "zones renamed because their name repeated an earlier zone's; workstations "
                    "that looked their zone up by the old name now find the earlier zone — check "
                    "which zone they belong to",
                    renamed,
                )
            )
        return "renamed " + "; ".join(renamed) if renamed else "already done"

    def _add_unique_column(self, name: str, column: str) -> str:
        table = self._live(name)
        if any(i.unique and i.columns == (column,) for i in table.indexes.values()):
            return "already done"
        # The same statement a column's UNIQUE attribute makes in CREATE TABLE: the server
        # names the index after the column, as on a freshly migrated database.
        _execute(
            self.connection,
            f"ALTER TABLE {_q(self.connection, name)} ADD UNIQUE ({_q(self.connection, column)})",
        )
        return "done"

    def _ensure_named_index(self, name: str, named: NamedIndex) -> str:
        c = self.connection
        table = self._live(name)
        model = self.target[name].model
        have = table.indexes.get(named.name)
        if have and have.columns == named.columns and have.unique == named.unique:
            return "already done"
        with c.schema_editor(atomic=False) as editor:
            if have:
                editor.execute(f"ALTER TABLE {_q(c, name)} DROP INDEX {_q(c, named.name)}")
            twin = None
            if not have:
                twin = self._twin(table, named, self._accounted(table, with_twins=False))
            if twin is not None and c.features.can_rename_index:
                # A site already indexed it under another name: keep the index, fix the name
                # (later migrations refer to it by name).
                editor.execute(
                    f"ALTER TABLE {_q(c, name)} RENAME INDEX {_q(c, twin.name)} "
                    f"TO {_q(c, named.name)}"
                )
                return f"renamed {twin.name}"
            if isinstance(named.definition, models.Index):
                editor.add_index(model, named.definition)
            else:
                editor.add_constraint(model, named.definition)
        return "done"

    def _ensure_foreign_key(self) -> str:
        c = self.connection
        table = self._live(VIDEO)
        model = self.target[VIDEO].model
        notes = []
        with c.schema_editor(atomic=False) as editor:
            for fk in table.foreign_keys:
                if fk.columns == ("ZONE_ID",) and not self._fk_ok(fk):
                    editor.execute(f"ALTER TABLE {_q(c, VIDEO)} DROP FOREIGN KEY {_q(c, fk.name)}")
                    notes.append(f"dropped {fk.name}")
            if not any(self._fk_ok(fk) for fk in table.foreign_keys):
                zone = model._meta.get_field("zone")
                # Django's own statement and name, as migrate would have made them.
                editor.execute(editor._create_fk_sql(model, zone, "_fk_%(to_table)s_%(to_column)s"))
                notes.append("added")
        return ", ".join(notes) or "already done"

    def _drop_index(self, name: str, index: str) -> str:
        table = self._live(name)
        if index not in table.indexes:
            return "already done"
        _execute(
            self.connection,
            f"ALTER TABLE {_q(self.connection, name)} DROP INDEX {_q(self.connection, index)}",
        )
        return "done"

    def _move_duplicates(self) -> str:
        c = self.connection
        dup = _q(c, DUPLICATES_TABLE)
        # One statement, so a crash cannot leave a half-made table behind.
        _execute(
            c,
            f"CREATE TABLE IF NOT EXISTS {dup} ("
            "`REASON` varchar(255) NOT NULL DEFAULT '', "
            "`MOVED_AT` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), "
            "KEY (`id`), KEY (`SESSIONID`)"
            f") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={self.collation} "
            "SELECT * FROM `VIDEO` WHERE 1 = 0",
        )
        columns = [col for col in self._live(VIDEO).columns]
        names = ", ".join(_q(c, col) for col in columns)
        selected = ", ".join(f"v.{_q(c, col)}" for col in columns)
        with transaction.atomic(using=c.alias):
            moved = _execute(
                c,
                f"INSERT INTO {dup} (`REASON`, {names}) "
                "SELECT CONCAT('same ZONE_ID and FILE_NAME as VIDEO.id=', k.keep_id), "
                f"{selected} FROM `VIDEO` v JOIN (SELECT ZONE_ID, {_FILE_KEY} AS file_key, "
                f"MIN(id) AS keep_id FROM `VIDEO` GROUP BY ZONE_ID, {_FILE_KEY} "
                "HAVING COUNT(*) > 1) k ON v.ZONE_ID = k.ZONE_ID "
                f"AND {_FILE_KEY.replace('FILE_NAME', 'v.FILE_NAME')} = k.file_key "
                "AND v.id <> k.keep_id",
            )
            _execute(c, f"DELETE v FROM `VIDEO` v JOIN {dup} d ON d.id = v.id")
        return f"moved {_plural(moved, 'row')}"

    def _link_secrets(self) -> str:
        c = self.connection
        with transaction.atomic(using=c.alias):
            ids = [i for (i,) in _rows(c, "SELECT id FROM `CONFIG` WHERE `LINK_SECRET` = ''")]
            for zone_id in ids:
                _execute(
                    c,
                    "UPDATE `CONFIG` SET `LINK_SECRET` = %s WHERE id = %s",
                    [encrypt_value(link_secret_generate()), zone_id],
                )
        return f"{_plural(len(ids), 'zone')} got a secret" if ids else "already done"

    def _record_migrations(self) -> str:
        recorder = MigrationRecorder(self.connection)
        recorder.ensure_schema()
        with transaction.atomic(using=self.connection.alias):
            applied = recorder.applied_migrations()
            for app, name in ADOPTED_MIGRATIONS:
                if (app, name) not in applied:
                    recorder.record_applied(app, name)
        return "recorded " + ", ".join(f"{a}.{n}" for a, n in ADOPTED_MIGRATIONS)

    # ---- findings that need a person -----------------------------------------------------------

    def attention(self, tables: dict[str, Table]) -> list[Finding]:
        c = self.connection
        out: list[Finding] = []
        plaintext, unreadable, empty_keys, bad_names = 0, [], [], []
        for zone_id, name, key, server in _rows(
            c, "SELECT id, `ZONE`, `RSA_KEY`, `SERVER` FROM `CONFIG` ORDER BY id"
        ):
            placeholder = server == PLACEHOLDER_SERVER
            if not key:
                if not placeholder:
                    empty_keys.append(f"id={zone_id}")
            elif is_legacy_plaintext(key):
                plaintext += 1
            else:
                try:
                    decrypt_value(key)
                except (FieldDecryptionError, ImproperlyConfigured):
                    unreadable.append(f"id={zone_id}")
            try:
                zone_name_validator(name or "")
            except ValidationError:
                bad_names.append(f"id={zone_id} {name!r}")
        if plaintext:
            out.append(Finding(ROTATE_HINT.format(n=plaintext)))
        if unreadable:
            out.append(
                Finding(
                    "zone keys neither plain text nor readable with FIELD_ENCRYPTION_KEYS (the "
                    f"application cannot load them): {len(unreadable)}",
                    unreadable[:EXAMPLES],
                )
            )
        if empty_keys:
            out.append(
                Finding(
                    f"{_plural(len(empty_keys), 'zone')} without an ssh key", empty_keys[:EXAMPLES]
                )
            )
        if bad_names:
            out.append(
                Finding(
                    "zone names the admin will not accept as they are (lower-case Latin letters, "
                    f"digits, '-' and '_'): {len(bad_names)}",
                    bad_names[:EXAMPLES],
                )
            )
        placeholders = _rows(
            c,
            "SELECT id, `ZONE` FROM `CONFIG` WHERE `SERVER` = %s ORDER BY id",
            [PLACEHOLDER_SERVER],
        )
        if placeholders:
            out.append(
                Finding(
                    f"disabled placeholder zones holding videos whose zone was missing: "
                    f"{len(placeholders)}; fill in the real zone's settings, or move the videos",
                    [f"id={i} {n!r}" for i, n in placeholders[:EXAMPLES]],
                )
            )
        if DUPLICATES_TABLE in set(c.introspection.table_names()):
            dup = _q(c, DUPLICATES_TABLE)
            moved = _scalar(c, f"SELECT COUNT(*) FROM {dup}")
            lost = _rows(
                c,
                f"SELECT DISTINCT d.SESSIONID FROM {dup} d WHERE NOT EXISTS "
                "(SELECT 1 FROM `VIDEO` v WHERE v.SESSIONID = d.SESSIONID) ORDER BY 1",
            )
            if moved:
                text = (
                    f"{_plural(moved, 'duplicate VIDEO row')} kept in {DUPLICATES_TABLE} (same "
                    "zone and file name as a row that stayed)"
                )
                if lost:
                    text += (
                        f"; session ids found only there, so search does not find them: {len(lost)}"
                    )
                out.append(Finding(text, [repr(s) for (s,) in lost[:EXAMPLES]]))
        zero = " OR ".join(
            f"{part}(RECORDING_DATE) = 0" for part in ("YEAR", "MONTH", "DAYOFMONTH")
        )
        n = _scalar(c, f"SELECT COUNT(*) FROM `VIDEO` WHERE {zero}")
        if n:
            examples = _rows(
                c, f"SELECT SESSIONID, FILE_NAME FROM `VIDEO` WHERE {zero} LIMIT {EXAMPLES}"
            )
            out.append(
                Finding(
                    f"{_plural(n, 'video')} with a zero RECORDING_DATE (unchanged; retention "
                    "cannot date them)",
                    [f"{s!r} {f!r}" for s, f in examples],
                )
            )
        n = _scalar(c, "SELECT COUNT(*) FROM `VIDEO` WHERE TRIM(SESSIONID) = ''")
        if n:
            examples = _rows(
                c,
                "SELECT ZONE_ID, FILE_NAME FROM `VIDEO` WHERE TRIM(SESSIONID) = '' "
                f"LIMIT {EXAMPLES}",
            )
            out.append(
                Finding(
                    f"{_plural(n, 'video')} with an empty SESSIONID (unchanged; not findable by "
                    "session id)",
                    [f"ZONE_ID={z} {f!r}" for z, f in examples],
                )
            )
        days = _q(c, "STORAGE_DAYS")
        valid = _valid_int_sql(days, 0, MAX_STORAGE_DAYS)
        n = _scalar(
            c,
            f"SELECT COUNT(*) FROM `VIDEO` WHERE {days} IS NOT NULL AND "
            f"(CASE WHEN {valid} THEN CAST(TRIM({days}) AS UNSIGNED) = 0 ELSE 0 END)",
        )
        if n:
            out.append(
                Finding(
                    f"{_plural(n, 'video')} with STORAGE_DAYS 0 (unchanged; check what the old "
                    "system meant by it — as a number of days it makes them due for deletion)"
                )
            )
        return out


# --- entry points ---------------------------------------------------------------------------


def _legacy_tables(connection: BaseDatabaseWrapper) -> set[str]:
    return {CONFIG, VIDEO} & set(connection.introspection.table_names())


def legacy_adoption_plan(*, using: str = "default") -> AdoptionPlan:
    """Inspect the database and say what adopting it would change. Changes nothing.

    Raises AdoptionError when the database cannot be adopted (unsupported engine, tables that
    are not the seed's, values no cleaning rule covers) — before anything is touched.
    """
    connection = connections[using]
    if _is_adopted(connection):
        return AdoptionPlan(
            status="adopted",
            message="already adopted: django_migrations has zones.0001_initial; nothing to do",
        )
    present = _legacy_tables(connection)
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
    planner = _Planner(connection)
    tables = planner.inspect()
    plan = AdoptionPlan(status="pending", table_rows={n: t.rows for n, t in tables.items()})
    planner.build(tables, plan)
    plan.attention = planner.attention(tables) + plan.attention
    plan.steps.append(
        Step(
            "record zones.0001_initial and storage.0001_initial as applied",
            planner._record_migrations,
            records_migrations=True,
        )
    )
    plan.planner = planner
    return plan


def legacy_adoption_execute(
    *,
    plan: AdoptionPlan,
    max_steps: int | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> AdoptionOutcome:
    """Run the plan's steps in order, then re-plan until nothing but recording is left.

    Each pass re-inspects the database, so steps that an earlier, interrupted run already did
    are not planned again and the ones it left half-done are finished. The migrations are
    recorded only once the tables match the target, so ``migrate`` never runs on top of a
    half-adopted schema.
    """
    outcome = AdoptionOutcome()
    if plan.status != "pending":
        return outcome
    planner = plan.planner
    steps = [s for s in plan.steps if not s.records_migrations]
    count = 0
    for pass_no in range(3):
        for step in steps:
            if max_steps is not None and count >= max_steps:
                outcome.stopped_early = True
                return outcome
            count += 1
            progress(f"[{count}] {step.title} …")
            try:
                result = step.action()
            except (DatabaseError, AdoptionError, ImproperlyConfigured) as exc:
                raise AdoptionError(
                    f"step {count} ({step.title}) failed: {' '.join(str(exc).split())}; "
                    "nothing after it was run — fix the cause and run adopt_legacy again"
                ) from exc
            progress(f"    {result}")
            outcome.done.append(f"{step.title}: {result}")
        tables = planner.inspect()
        again = AdoptionPlan(status="pending")
        planner.build(tables, again)
        steps = again.steps
        if not steps:
            break
        progress(f"pass {pass_no + 2}: {_plural(len(steps), 'step')} still to do")
    else:
        raise AdoptionError(
            "the tables still differ from the target after three passes: "
            + "; ".join(s.title for s in steps)
        )
    if max_steps is not None and count >= max_steps:
        outcome.stopped_early = True
        return outcome
    count += 1
    progress(f"[{count}] record zones.0001_initial and storage.0001_initial as applied …")
    try:
        progress(f"    {planner._record_migrations()}")
    except DatabaseError as exc:
        raise AdoptionError(f"recording the migrations failed: {exc}") from exc
    tables = planner.inspect()
    final = AdoptionPlan(status="pending")
    planner.build(tables, final)
    outcome.attention = planner.attention(tables) + planner.notes + final.attention
    return outcome
