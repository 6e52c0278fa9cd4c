"""`manage.py adopt_legacy` on the real MariaDB: an old system's database, adopted in place.

Each test makes its own scratch database (dropped afterwards), creates the seed's tables with
the seed README's exact DDL, fills them the way the old clients did (raw INSERTs over a plain
MySQLdb connection) and runs the real commands in a subprocess against it.
"""

# The SQL in here is built from this file's constants only.
# ruff: noqa: S608

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import subprocess
from pathlib import Path

import MySQLdb
import pytest

from client_agent.grants import client_grants
from tests.helpers import database_url, server_connect

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"

# Verbatim from the "База данных" section of seed/OPVideo-README.ru.md.
SEED_CONFIG_DDL = """CREATE TABLE `CONFIG` (
  `id` int(10) NOT NULL AUTO_INCREMENT,
  `ZONE` varchar(20) NOT NULL,
  `SERVER` varchar(50) NOT NULL,
  `USER` varchar(10) NOT NULL,
  `RSA_KEY` text NOT NULL,
  `SPEED` varchar(5) NOT NULL,
  `PATH_SRC` varchar(50) NOT NULL,
  `PATH_DST` varchar(50) NOT NULL,
  `TYPE_VIDEOFILE` varchar(5) NOT NULL,
  `PUBLIC_ADDRESS` varchar(50) DEFAULT NULL,
  `PUBLIC_PORT` varchar(5) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB AUTO_INCREMENT=50 DEFAULT CHARSET=utf8"""

SEED_VIDEO_DDL = """CREATE TABLE `VIDEO` (
  `ZONE_ID` int(10) NOT NULL,
  `PROJECTID` varchar(40) DEFAULT NULL,
  `SESSIONID` varchar(50) NOT NULL,
  `FILE_NAME` varchar(100) NOT NULL,
  `RECORDING_DATE` date NOT NULL,
  `DELETE_DATE` date DEFAULT NULL,
  `STORAGE_DAYS` varchar(3) DEFAULT NULL,
  KEY `VIDEO_FK` (`ZONE_ID`),
  CONSTRAINT `VIDEO_FK` FOREIGN KEY (`ZONE_ID`) REFERENCES `CONFIG` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8"""

FILL_INSERT = (
    "INSERT INTO VIDEO (ZONE_ID, PROJECTID, SESSIONID, FILE_NAME, RECORDING_DATE, DELETE_DATE, "
    "STORAGE_DAYS) VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
SEED_COLUMNS_INSERTED = (
    "ZONE_ID", "PROJECTID", "SESSIONID", "FILE_NAME", "RECORDING_DATE", "STORAGE_DAYS"
)  # fmt: skip
OLD_INSERT = (
    "INSERT INTO VIDEO (ZONE_ID, PROJECTID, SESSIONID, FILE_NAME, RECORDING_DATE, STORAGE_DAYS) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)

PEM_RSA = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAw3Jx\n-----END RSA PRIVATE KEY-----\n"
PEM_OPENSSH = (
    "\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)
PUTTY_KEY = "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\n"

# (id or None for AUTO_INCREMENT, ZONE, RSA_KEY, SPEED, PUBLIC_PORT)
ZONES = [
    (None, "kursk", PEM_RSA, "3000", "88"),  # id 50
    (None, "orel", PEM_OPENSSH, "abc", ""),  # id 51
    (None, "Kursk ", PUTTY_KEY, "0", "70000"),  # id 52: same name as 50, trimmed/ignoring case
    (None, "belgorod", PEM_RSA, " 500", "x8"),  # id 53
    (60, "tula", "", "99999", None),  # explicit id leaves a gap
]
ZONE_IDS = [50, 51, 52, 53, 60]
ORPHAN_ZONE = 77
CONFLICT_SESSION = "node_0_domain_0_nauss_9_1629999999_999999"
STORAGE_DAYS = ["30", "", "x", None, "7", " 14", "-5", "0", "365", "030"]


def _connect(db: str | None = None, *, charset: str = "utf8mb4", **kwargs):
    return server_connect(db, charset=charset, autocommit=True, **kwargs)


class ScratchDB:
    def __init__(self, prefix: str = "opvideo_legacy", *, options: str = ""):
        self.name = f"{prefix}_{secrets.token_hex(5)}"
        with _connect() as conn:
            conn.cursor().execute(f"CREATE DATABASE `{self.name}` {options}")
        self.url = database_url(self.name)

    def drop(self) -> None:
        with _connect() as conn:
            conn.cursor().execute(f"DROP DATABASE IF EXISTS `{self.name}`")

    def connect(self, **kwargs):
        return _connect(self.name, **kwargs)

    def query(self, sql: str, params=None) -> list[tuple]:
        with self.connect() as conn:
            cur = conn.cursor()
            cur.execute(sql, params)
            return list(cur.fetchall())

    def manage(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return manage(self.url, *args, stdin=stdin)


def manage(database_url: str, *args: str, stdin: str | None = None):
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"rc={result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture
def scratch():
    made: list[ScratchDB] = []

    def make(**kwargs) -> ScratchDB:
        db = ScratchDB(**kwargs)
        made.append(db)
        return db

    yield make
    for db in made:
        db.drop()


# --- the old system's data ------------------------------------------------------------------


def legacy_rows() -> list[tuple]:
    """VIDEO rows in the order the old clients inserted them (dates as text)."""
    rows = []
    for i in range(60):
        zone = ZONE_IDS[i % len(ZONE_IDS)]
        session = f"node_0_domain_0_nauss_{i % 3}_{1629126106 + 37 * i}_{172352 + i}"
        project = f"corebo00000000000{i:015d}"
        name = f"Иванов_И_И_{session}.mp4" if i % 7 == 0 else f"{session}.mp4"
        day = f"2021-{8 + i // 28:02d}-{1 + i % 28:02d}"
        deleted = "2021-12-01" if i % 11 == 0 else None
        rows.append((zone, project, session, name, day, deleted, STORAGE_DAYS[i % 10]))
    # The same file registered again (a client retried): three extra rows in two groups.
    rows += [rows[3], rows[10], rows[3]]
    # Same name up to case: a different file on Linux, so both stay.
    rows.append((rows[12][0], rows[12][1], rows[12][2], rows[12][3].upper(), *rows[12][4:]))
    # The same file under another session id: moved, and reported.
    rows.append((rows[20][0], rows[20][1], CONFLICT_SESSION, rows[20][3], *rows[20][4:]))
    rows.append(
        (50, None, "node_0_domain_0_nauss_1_1629126999_1", "zero.mp4", "0000-00-00", None, "30")
    )
    rows.append((51, None, "", "no-session.mp4", "2021-08-20", None, None))
    rows.append(
        (
            53,
            "corebo00000000000ng9hgl5vhtinhmo",
            "node_0_domain_0_nauss_0_1629126106_172352x",
            "Петров.mp4",
            "2021-08-16",
            None,
            "30",
        )
    )
    return rows


def orphan_rows() -> list[tuple]:
    return [
        (ORPHAN_ZONE, None, f"node_0_domain_0_nauss_2_16291{n:05d}_1", f"orphan{n}.mp4",
         "2021-09-01", None, "30")
        for n in range(2)
    ]  # fmt: skip


def make_legacy(db: ScratchDB, *, orphans: str = "drop_fk", engine: str = "InnoDB") -> list[tuple]:
    """The seed's tables, filled the old way; returns the VIDEO rows in insertion order.

    orphans: "drop_fk" — the site dropped VIDEO_FK, then wrote videos of a zone that does not
    exist; "fk_checks_off" — VIDEO_FK is still there, but the rows got in with checks off.
    """
    with db.connect(charset="utf8") as conn:  # the old clients' connection
        cur = conn.cursor()
        cur.execute("SET SESSION sql_mode = ''")  # old servers: zero dates were accepted
        for ddl in (SEED_CONFIG_DDL, SEED_VIDEO_DDL):
            cur.execute(ddl.replace("ENGINE=InnoDB", f"ENGINE={engine}"))
        for zone_id, name, key, speed, port in ZONES:
            cur.execute(
                "INSERT INTO CONFIG SET id = %s, ZONE = %s, SERVER = %s, USER = 'video', "
                "RSA_KEY = %s, SPEED = %s, PATH_SRC = '/home/oper/.videos/', "
                "PATH_DST = '/srv/video', TYPE_VIDEOFILE = 'mp4', PUBLIC_ADDRESS = %s, "
                "PUBLIC_PORT = %s",
                [zone_id, name, f"docker5.{name.strip().lower()}.example.ru", key, speed,
                 f"docker5.{name.strip().lower()}.example.ru", port],
            )  # fmt: skip
        rows = legacy_rows()
        head, tail = rows[:40], rows[40:]
        for row in head:
            cur.execute(FILL_INSERT, row)
        if orphans == "drop_fk":
            cur.execute("ALTER TABLE VIDEO DROP FOREIGN KEY VIDEO_FK")
        else:
            cur.execute("SET SESSION foreign_key_checks = 0")
        for row in orphan_rows():
            cur.execute(FILL_INSERT, row)
        cur.execute("SET SESSION foreign_key_checks = 1")
        for row in tail:
            cur.execute(FILL_INSERT, row)
    return rows[:40] + orphan_rows() + rows[40:]


# --- looking at a database ------------------------------------------------------------------

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


@pytest.fixture(scope="module")
def reference_schema():
    """The schema `migrate` makes on an empty database: what adoption must arrive at."""
    db = ScratchDB("opvideo_fresh")
    try:
        ok(db.manage("migrate", "-v0"))
        return schema(db, MIGRATED_TABLES)
    finally:
        db.drop()


# --- tests ----------------------------------------------------------------------------------


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


def test_adopts_a_messy_legacy_database_in_place(scratch, reference_schema):
    db = scratch()
    original = make_legacy(db)
    zones_before = db.query("SELECT id, SERVER FROM CONFIG ORDER BY id")

    out = ok(db.manage("adopt_legacy"))
    ok(db.manage("migrate", "-v0"))

    # The report: what was found, what changed, what needs a person.
    assert (
        "3 zone keys are stored in plain text; run `manage.py rotate_field_keys` once the old "
        "clients are replaced" in out
    )
    assert "CONFIG.SPEED values not a positive integer ≤ 99999: 2 → 3000" in out
    assert "'id=51': 'abc'" in out
    assert "CONFIG.PUBLIC_PORT values empty, not a number or outside 1..65535: 3 → NULL" in out
    assert "VIDEO.STORAGE_DAYS values empty, not a number, negative or too large: " in out
    assert "placeholder zone" in out and "orphan-77" in out
    assert "id=52 'Kursk ' (same as id=50) → 'Kursk-52'" in out
    assert "1 video with a zero RECORDING_DATE" in out
    assert "1 video with an empty SESSIONID" in out
    assert CONFLICT_SESSION in out  # its row was moved: only VIDEO_ADOPT_DUPLICATES has it
    assert "Adopted. Now run `manage.py migrate`." in out

    # The schema is exactly what a fresh `migrate` makes.
    assert schema(db, MIGRATED_TABLES) == reference_schema

    # CONFIG: every id kept, nothing else touched but what the rules say.
    zones = {
        row[0]: row[1:]
        for row in db.query(
            "SELECT id, ZONE, SERVER, SPEED, PUBLIC_PORT, ENABLED, RSA_KEY FROM CONFIG"
        )
    }
    assert set(zones) == {*ZONE_IDS, ORPHAN_ZONE}
    assert {i: zones[i][1] for i, _ in zones_before} == dict(zones_before)
    assert {i: zones[i][0] for i in ZONE_IDS} == {
        50: "kursk", 51: "orel", 52: "Kursk-52", 53: "belgorod", 60: "tula"
    }  # fmt: skip
    assert {i: zones[i][2] for i in ZONE_IDS} == {50: 3000, 51: 3000, 52: 3000, 53: 500, 60: 99999}
    assert {i: zones[i][3] for i in ZONE_IDS} == {50: 88, 51: None, 52: None, 53: None, 60: None}
    assert zones[50][5] == PEM_RSA and zones[51][5] == PEM_OPENSSH  # plain text left as it was
    assert zones[ORPHAN_ZONE][0] == "orphan-77" and zones[ORPHAN_ZONE][4] == 0
    assert all(zones[i][4] == 1 for i in ZONE_IDS)

    # VIDEO: no row lost; ids follow the old insertion order; duplicates moved, not deleted.
    kept = db.query(f"SELECT id, {VIDEO_COLS} FROM VIDEO ORDER BY id")
    moved = db.query(f"SELECT id, {VIDEO_COLS}, REASON FROM VIDEO_ADOPT_DUPLICATES ORDER BY id")
    assert len(kept) + len(moved) == len(original) == 70
    assert len(moved) == 4
    merged = sorted([row for row in kept] + [row[:-1] for row in moved])
    assert [row[0] for row in merged] == list(range(1, len(original) + 1))
    assert [row[1:7] for row in merged] == [row[:6] for row in original]
    assert [row[7] for row in merged] == [expected_days(row[6]) for row in original]
    by_id = {row[0]: row for row in kept}
    for row in moved:
        keep_id = int(re.search(r"VIDEO\.id=(\d+)", row[-1]).group(1))
        assert keep_id < row[0]
        assert (by_id[keep_id][1], by_id[keep_id][4]) == (row[1], row[4])
    upper = [r for r in kept if r[4] == original[12][3].upper()]
    assert len(upper) == 1  # same name up to case is another file

    # Every session id is found through the ORM (except the one that is only in duplicates).
    sessions = sorted({row[2] for row in original})
    probe = json.loads(
        ok(db.manage("shell", "-c", ORM_PROBE, stdin=json.dumps(sessions))).splitlines()[-1]
    )
    missing = [s for s, n in probe["found"].items() if n == 0]
    assert missing == [CONFLICT_SESSION]
    assert db.query(
        "SELECT COUNT(*) FROM VIDEO_ADOPT_DUPLICATES WHERE SESSIONID = %s", [CONFLICT_SESSION]
    ) == [(1,)]
    # Every zone got a link secret the application can decrypt with FIELD_ENCRYPTION_KEYS.
    assert set(probe["zones"]) == {str(i) for i in (*ZONE_IDS, ORPHAN_ZONE)}
    assert all(length == 43 for _name, _enabled, length in probe["zones"].values())

    # An old client still registers a recording, its old way.
    registration = [
        50, "corebo00000000000ng9hgl5vhtinhmo", "node_0_domain_0_nauss_0_1700000000_1",
        "Сидоров_node_0_domain_0_nauss_0_1700000000_1.mp4", "2023-11-14", "30",
    ]  # fmt: skip
    with db.connect(charset="utf8") as conn:  # server-default sql_mode, no init_command
        conn.cursor().execute(OLD_INSERT, registration)
        # What the report warns about: registering the same file again is now refused.
        with pytest.raises(MySQLdb.IntegrityError):
            conn.cursor().execute(OLD_INSERT, registration)
    (new,) = db.query(
        "SELECT id, STORAGE_DAYS, LEGAL_HOLD, WORKSTATION, REGISTERED_AT IS NOT NULL "
        "FROM VIDEO WHERE SESSIONID = 'node_0_domain_0_nauss_0_1700000000_1'"
    )
    assert new[0] > len(original) and new[1:] == (30, 0, "", 1)

    # The same old INSERT over an old client's own login (only the seed's columns granted)
    # passes VIDEO's trigger; over the new clients' login, listed in CLIENT_LOGIN, the trigger
    # refuses it (no workstation, no size, no hash).
    old_login, new_login = (f"opv{kind}_{secrets.token_hex(4)}" for kind in ("o", "n"))
    password = secrets.token_urlsafe(16)
    seed_columns = ", ".join(f"`{c}`" for c in SEED_COLUMNS_INSERTED)
    try:
        with db.connect() as conn:
            cur = conn.cursor()
            for user in (old_login, new_login):
                cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
            cur.execute(
                f"GRANT INSERT ({seed_columns}) ON `{db.name}`.`VIDEO` TO '{old_login}'@'%'"
            )
            for statement in client_grants(
                zone="kursk", database=db.name, account=f"'{new_login}'@'%'"
            ):
                cur.execute(statement)
        again = [
            *registration[:3],
            "Петров_node_0_domain_0_nauss_0_1700000000_2.mp4",
            *registration[4:],
        ]
        with db.connect(charset="utf8", user=old_login, password=password) as conn:
            assert conn.cursor().execute(OLD_INSERT, again) == 1
        with (
            db.connect(charset="utf8", user=new_login, password=password) as conn,
            pytest.raises(MySQLdb.OperationalError) as refused,
        ):
            conn.cursor().execute(OLD_INSERT, [*registration[:3], "x.mp4", *registration[4:]])
        assert refused.value.args == (
            1644,
            "workstation client's VIDEO row refused: WORKSTATION is empty or contains '/'",
        )
    finally:
        with db.connect() as conn:
            for user in (old_login, new_login):
                conn.cursor().execute(f"DROP USER IF EXISTS '{user}'@'%'")
    assert db.query("SELECT COUNT(*) FROM VIDEO WHERE FILE_NAME IN (%s, 'x.mp4')", [again[3]]) == [
        (1,)
    ]


def test_an_old_servers_database_utf8_default_and_myisam_tables(scratch, reference_schema):
    # Sites set up on an old MySQL: the database default is utf8 (utf8mb3) and the seed's
    # tables were created as MyISAM, so VIDEO_FK was never there.
    db = scratch(options="CHARACTER SET utf8 COLLATE utf8_general_ci")
    original = make_legacy(db, orphans="fk_checks_off", engine="MyISAM")
    with db.connect() as conn:  # searching by session id was slow: someone added an index
        conn.cursor().execute("CREATE INDEX sess ON VIDEO (SESSIONID)")

    out = ok(db.manage("adopt_legacy"))
    ok(db.manage("migrate", "-v0"))

    assert "database: set the default character set to utf8mb4" in out
    assert "CONFIG: rebuild as InnoDB" in out and "VIDEO: rebuild as InnoDB" in out
    assert "VIDEO: rename index sess to VIDEO_SESSIONID_IDX" in out
    assert schema(db, MIGRATED_TABLES) == reference_schema
    kept = db.query("SELECT COUNT(*) FROM VIDEO")[0][0]
    moved = db.query("SELECT COUNT(*) FROM VIDEO_ADOPT_DUPLICATES")[0][0]
    assert kept + moved == len(original)
    assert {t for (t,) in db.query(
        # Tables only: the view CLIENT_ZONE_KEY has no collation of its own.
        "SELECT DISTINCT TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
        "AND TABLE_TYPE = 'BASE TABLE'",
        [db.name],
    )} == {reference_schema["VIDEO"]["table"][1]}  # fmt: skip


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


@pytest.fixture(scope="module")
def adopted_end_state():
    """A legacy database adopted in one go: the state an interrupted adoption must reach."""
    db = ScratchDB()
    try:
        make_legacy(db, orphans="fk_checks_off")
        dry = ok(db.manage("adopt_legacy", "--dry-run"))
        titles = re.findall(r"^  \d+\. (.*)$", dry, flags=re.M)
        ok(db.manage("adopt_legacy"))
        return end_state(db), titles
    finally:
        db.drop()


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


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (
            [SEED_CONFIG_DDL, SEED_VIDEO_DDL.replace("  `SESSIONID` varchar(50) NOT NULL,\n", "")],
            "CONFIG/VIDEO do not look like the seed's tables: VIDEO has no column SESSIONID",
        ),
        (
            # A site widened ZONE and used it: the project's varchar(20) cannot hold that.
            [
                SEED_CONFIG_DDL.replace("`ZONE` varchar(20)", "`ZONE` varchar(40)"),
                SEED_VIDEO_DDL,
                "INSERT INTO CONFIG SET ZONE = 'nizhny-novgorod-central', SERVER = 's', "
                "USER = 'u', RSA_KEY = '', SPEED = '3000', PATH_SRC = '/a', PATH_DST = '/b', "
                "TYPE_VIDEOFILE = 'mp4'",
            ],
            "values the new schema cannot hold (fix them by hand, then run again): "
            "CONFIG.ZONE is longer than 20 characters in 1 rows",
        ),
    ],
    ids=["missing-column", "value-too-long"],
)
def test_databases_that_cannot_be_adopted_are_refused_untouched(scratch, setup, message):
    db = scratch()
    with db.connect() as conn:
        for sql in setup:
            conn.cursor().execute(sql)
    before = fingerprint(db)

    for args in (["--dry-run"], []):
        result = db.manage("adopt_legacy", *args)

        assert result.returncode != 0
        assert result.stderr.strip().splitlines()[-1] == f"CommandError: {message}"
    assert fingerprint(db) == before


def test_legacy_tables_on_another_engine_are_refused(tmp_path):
    path = tmp_path / "legacy.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE CONFIG (id integer primary key, ZONE varchar(20))")
        conn.execute("CREATE TABLE VIDEO (ZONE_ID integer, SESSIONID varchar(50))")

    result = manage(f"sqlite:///{path}", "adopt_legacy")

    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("CommandError: legacy tables CONFIG, VIDEO found on sqlite")
    assert "MySQL/MariaDB" in last
