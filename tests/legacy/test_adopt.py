"""`manage.py adopt_legacy` on the real MariaDB: an old system's database, adopted in place,
ends exactly where a fresh `migrate` does, and the old clients keep working."""

# The SQL in here is built from this file's constants only.
# ruff: noqa: S608

from __future__ import annotations

import json
import re
import secrets

import MySQLdb
import pytest

from client_agent.grants import client_grants
from tests.legacy.seed import (
    CONFLICT_SESSION,
    OLD_INSERT,
    ORPHAN_ZONE,
    PEM_OPENSSH,
    PEM_RSA,
    SEED_COLUMNS_INSERTED,
    ZONE_IDS,
    make_legacy,
    ok,
)
from tests.legacy.snapshots import MIGRATED_TABLES, ORM_PROBE, VIDEO_COLS, expected_days, schema


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
            for statement in client_grants(database=db.name, account=f"'{new_login}'@'%'"):
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
        "SELECT DISTINCT TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
        [db.name],
    )} == {reference_schema["VIDEO"]["table"][1]}  # fmt: skip
