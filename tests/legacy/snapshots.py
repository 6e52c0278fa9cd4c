"""What the adoption tests compare: a database's schema, a fingerprint a dry run must leave
alone, and the end state an adoption reaches."""

# The SQL in here is built from this file's constants only.
# ruff: noqa: S608

from __future__ import annotations

import re

from tests.legacy.seed import ScratchDB

TABLES = ("CONFIG", "VIDEO")
# What `migrate` adds after adoption and must make as on a fresh database: the custody
# columns' neighbours (issue 12) and the table VIDEO's trigger reads.
MIGRATED_TABLES = (*TABLES, "WORKSTATION", "CLIENT_LOGIN", "storage_integrityfinding")


def schema(db: ScratchDB, tables: tuple[str, ...] = TABLES) -> dict:
    """Tables as information_schema sees them (with their triggers), names of indexes/FKs
    left out."""
    out = {}
    for table in tables:
        columns = {
            name: rest
            for name, *rest in db.query(
                "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLLATION_NAME, "
                "EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                "AND TABLE_NAME = %s",
                [db.name, table],
            )
        }
        indexes: dict[str, list] = {}
        for name, non_unique, column in db.query(
            "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY INDEX_NAME, SEQ_IN_INDEX",
            [db.name, table],
        ):
            indexes.setdefault(name, [int(non_unique)]).append(column)
        checks = sorted(
            c
            for (c,) in db.query(
                "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
                "WHERE CONSTRAINT_SCHEMA = %s AND TABLE_NAME = %s",
                [db.name, table],
            )
        )
        fks = sorted(
            db.query(
                "SELECT k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, "
                "r.UPDATE_RULE, r.DELETE_RULE FROM information_schema.KEY_COLUMN_USAGE k "
                "JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
                "ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA "
                "AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
                "WHERE k.TABLE_SCHEMA = %s AND k.TABLE_NAME = %s",
                [db.name, table],
            )
        )
        (info,) = db.query(
            "SELECT ENGINE, TABLE_COLLATION FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
            [db.name, table],
        )
        triggers = db.query(
            "SELECT TRIGGER_NAME, EVENT_MANIPULATION, ACTION_TIMING, ACTION_STATEMENT "
            "FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = %s "
            "AND EVENT_OBJECT_TABLE = %s ORDER BY TRIGGER_NAME",
            [db.name, table],
        )
        out[table] = {
            "columns": columns,
            "triggers": triggers,
            "indexes": sorted(indexes.values()),
            "checks": checks,
            "foreign_keys": fks,
            "table": info,
        }
    return out


def fingerprint(db: ScratchDB) -> dict:
    """Everything a dry run must leave alone: table list, DDL, data checksums, db default."""
    tables = sorted(t for (t,) in db.query("SHOW TABLES"))
    out = {"tables": tables}
    out["schema"] = db.query(
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
        "information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
        [db.name],
    )
    for table in tables:
        out[table] = (
            db.query(f"SHOW CREATE TABLE `{table}`")[0][1],
            db.query(f"CHECKSUM TABLE `{table}` EXTENDED")[0][1],
        )
    return out


VIDEO_COLS = (
    "ZONE_ID, PROJECTID, SESSIONID, FILE_NAME, CAST(RECORDING_DATE AS CHAR), "
    "CAST(DELETE_DATE AS CHAR), STORAGE_DAYS"
)


def end_state(db: ScratchDB) -> dict:
    """What an adoption produced, minus what is random or a timestamp."""
    return {
        "schema": schema(db),
        "config": db.query(
            "SELECT id, ZONE, SERVER, USER, RSA_KEY, SPEED, PATH_SRC, PATH_DST, TYPE_VIDEOFILE, "
            "PUBLIC_ADDRESS, PUBLIC_PORT, ENABLED, SSH_PORT, PUBLIC_SCHEME, RETENTION_DAYS, "
            "LINK_SECRET <> '', FILE_NAME_PATTERN FROM CONFIG ORDER BY id"
        ),
        "video": db.query(
            f"SELECT id, {VIDEO_COLS}, SIZE, WORKSTATION, LEGAL_HOLD, LEGAL_HOLD_REASON "
            "FROM VIDEO ORDER BY id"
        ),
        "duplicates": db.query(
            f"SELECT id, REASON, {VIDEO_COLS} FROM VIDEO_ADOPT_DUPLICATES ORDER BY id"
        ),
        "migrations": db.query(
            "SELECT app, name FROM django_migrations WHERE app IN ('zones', 'storage') "
            "ORDER BY app, name"
        ),
    }


def expected_days(raw: str | None) -> int | None:
    if raw is None or not re.fullmatch(r"[0-9]{1,5}", raw.strip()):
        return None
    value = int(raw.strip())
    return value if value <= 65535 else None


ORM_PROBE = """
import json, sys
from storage.models import Video
from zones.models import Zone
sessions = json.load(sys.stdin)
print(json.dumps({
    "found": {s: Video.objects.filter(session_id=s).count() for s in sessions},
    "zones": {
        z.pk: [z.name, z.enabled, len(z.link_secret)]
        for z in Zone.objects.only("id", "name", "enabled", "link_secret")
    },
}))
"""
