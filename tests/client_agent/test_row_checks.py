"""VIDEO's trigger against the workstation clients' login (migration 0004_client_row_checks).

Every INSERT here goes over a plain connection as the real least-privilege client user
(``client_grants()``), or as another login to show it is left alone. The statement is the
client's own shape: ``storage.sql.insert_sql(ignore_conflicts=True)``, i.e. INSERT IGNORE.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import date, timedelta

import environ
import MySQLdb
import pytest
from django.db import connection

from client_agent.grants import client_grants
from client_agent.models import ClientDatabaseLogin
from storage.models import Video
from storage.registration import REGISTER_FIELDS
from storage.sql import insert_sql
from tests.client_agent.conftest import DbAccount, client_login_register
from tests.factories import make_zone
from tests.helpers import database_url, manage, server_connect

DENIED = (MySQLdb.OperationalError, MySQLdb.ProgrammingError)
# What the client registers once the hash lands in REGISTER_FIELDS (issue 12).
FIELDS = REGISTER_FIELDS
SIGNAL = 1644  # ER_SIGNAL_EXCEPTION: SIGNAL SQLSTATE '45000'
HASH = hashlib.sha256(b"recording").hexdigest()
REFUSED = "workstation client's VIDEO row refused: "


def insert_statement(rows: int = 1) -> str:
    fields = [Video._meta.get_field(name) for name in FIELDS]
    return insert_sql(
        connection=connection, model=Video, fields=fields, rows=rows, ignore_conflicts=True
    )


def connect(account: DbAccount):
    return MySQLdb.connect(
        host=account.host,
        port=account.port,
        user=account.user,
        password=account.password,
        database=account.name,
        charset="utf8mb4",
        autocommit=True,
    )


@pytest.fixture
def zone(transactional_db):
    return make_zone(name="kursk", retention_days=30)


@pytest.fixture
def today(transactional_db) -> date:
    """The database's CURDATE(), which the trigger compares with (not this process's)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT CURDATE()")
        return cursor.fetchone()[0]


@pytest.fixture
def client(client_account, zone, transactional_db):
    """A cursor logged in as the client's user, its name listed in CLIENT_LOGIN for ``zone``."""
    assert {"content_hash", "hash_origin"} <= set(REGISTER_FIELDS)  # granted by client_grants
    client_login_register(client_account, zone=zone.name)
    conn = connect(client_account)
    yield conn.cursor()
    conn.close()


@pytest.fixture
def old_client(client_account, transactional_db):
    """Another login with the old clients' privileges (the seed's columns), not listed."""
    user = f"opvo_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(16)
    db = client_account.name
    seed = "`ZONE_ID`, `PROJECTID`, `SESSIONID`, `FILE_NAME`, `RECORDING_DATE`, `STORAGE_DAYS`"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
        cursor.execute(f"GRANT INSERT ({seed}) ON `{db}`.`VIDEO` TO '{user}'@'%'")
    account = DbAccount(
        user=user, password=password, host=client_account.host, port=client_account.port, name=db
    )
    conn = connect(account)
    yield conn.cursor()
    conn.close()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP USER '{user}'@'%'")


def row(zone, today: date, /, **overrides) -> dict:
    values = {
        "zone": zone.pk,
        "project_id": "corebo00000000000ng9hgl5vhtinhmo",
        "session_id": "node_0_domain_0_nauss_0_1629126106_172352",
        "workstation": "op101",
        "file_name": "op101/node_0_domain_0_nauss_0_1629126106_172352.mp4",
        "recording_date": today,
        "storage_days": 30,
        "size": 10_000,
        "content_hash": HASH,
        "hash_origin": "workstation",
    }
    values.update(overrides)
    return values


def params(*rows: dict) -> list:
    return [value for values in rows for value in (values[f] for f in FIELDS)]


def insert(cursor, *rows: dict) -> int:
    return cursor.execute(insert_statement(len(rows)), params(*rows))


def as_root(*rows: dict) -> int:
    with connection.cursor() as cursor:
        cursor.execute(insert_statement(len(rows)), params(*rows))
        return cursor.rowcount


def stored() -> list[tuple]:
    return list(
        Video.objects.order_by("id").values_list(
            "workstation", "file_name", "size", "content_hash", "storage_days"
        )
    )


def test_a_valid_row_from_the_client_is_accepted(client, zone, today):
    assert insert(client, row(zone, today)) == 1

    assert stored() == [
        ("op101", "op101/node_0_domain_0_nauss_0_1629126106_172352.mp4", 10_000, HASH, 30)
    ]
    assert Video.objects.get().hash_origin == "workstation"


def test_a_day_of_clock_skew_and_old_recordings_are_accepted(client, zone, today):
    tomorrow = row(zone, today, recording_date=today + timedelta(days=1), file_name="op101/a")
    backlog = row(zone, today, recording_date=date(2021, 8, 16), file_name="op101/b")

    assert insert(client, tomorrow, backlog) == 2


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"workstation": ""}, "WORKSTATION is empty or contains '/'"),
        ({"workstation": "op101/x", "file_name": "op101/x/a.mp4"}, "WORKSTATION is empty"),
        ({"workstation": "op102"}, "FILE_NAME does not begin with WORKSTATION followed by '/'"),
        ({"file_name": "op101.mp4"}, "FILE_NAME does not begin with WORKSTATION"),
        ({"file_name": "op101x/a.mp4"}, "FILE_NAME does not begin with WORKSTATION"),
        ({"file_name": "OP101/a.mp4"}, "FILE_NAME does not begin with WORKSTATION"),  # case
        ({"file_name": "op101/"}, "FILE_NAME is not WORKSTATION/<one file name>"),
        ({"file_name": "op101/../op102/a.mp4"}, "FILE_NAME is not WORKSTATION/<one file name>"),
        ({"size": None}, "SIZE is missing"),
        ({"content_hash": None}, "HASH is missing"),
        ({"content_hash": HASH.upper()}, "HASH is not a SHA-256 in 64 lowercase hex digits"),
        ({"content_hash": HASH[:63]}, "HASH is not a SHA-256"),
        ({"content_hash": "g" * 64}, "HASH is not a SHA-256"),
        ({"content_hash": " " + HASH[1:]}, "HASH is not a SHA-256"),
        ({"content_hash": "\u0430" * 32}, "HASH is not a SHA-256"),  # Cyrillic a: 64 bytes
        ({"hash_origin": None}, "HASH_ORIGIN is not 'workstation'"),
        ({"hash_origin": "storage"}, "HASH_ORIGIN is not 'workstation'"),
        ({"hash_origin": "WORKSTATION"}, "HASH_ORIGIN is not 'workstation'"),
        ({"storage_days": 0}, "STORAGE_DAYS is not the zone's RETENTION_DAYS in CONFIG"),
        ({"storage_days": None}, "STORAGE_DAYS is not the zone's RETENTION_DAYS"),
        ({"storage_days": 3650}, "STORAGE_DAYS is not the zone's RETENTION_DAYS"),
        ({"recording_date": 2}, "RECORDING_DATE is more than a day in the future"),
        ({"recording_date": 400}, "RECORDING_DATE is more than a day in the future"),
    ],
)
def test_each_rule_refuses_the_clients_row_and_not_another_logins(
    client, zone, today, overrides, rule
):
    if "recording_date" in overrides:  # days from today
        overrides = {"recording_date": today + timedelta(days=overrides["recording_date"])}
    values = row(zone, today, **overrides)

    with pytest.raises(MySQLdb.OperationalError) as refused:
        insert(client, values)

    code, message = refused.value.args
    assert code == SIGNAL
    assert message.startswith(REFUSED + rule)
    assert stored() == []
    # The web's login (here the test database's owner) writes the same row unchecked.
    assert as_root(values) == 1
    assert len(stored()) == 1


def test_a_zone_that_does_not_exist_is_named_before_the_foreign_key(client, zone, today):
    with pytest.raises(MySQLdb.OperationalError) as refused:
        insert(client, row(zone, today, zone=zone.pk + 1000))

    assert refused.value.args == (SIGNAL, REFUSED + "ZONE_ID is not a zone in CONFIG")


def test_storage_days_follow_the_zones_current_retention(client, zone, today):
    zone.retention_days = 45
    zone.save(update_fields=["retention_days"])

    with pytest.raises(MySQLdb.OperationalError):
        insert(client, row(zone, today, storage_days=30))
    assert insert(client, row(zone, today, storage_days=45)) == 1


@pytest.mark.parametrize(
    ("workstation", "file_name", "accepted"),
    [
        # LIKE wildcards in a workstation's name match only themselves.
        ("op_1", "opX1/a.mp4", False),
        ("%", "op102/a.mp4", False),
        ("%", "%/a.mp4", True),
        ("op%", "op%/a.mp4", True),
        ("op%", "op1/a.mp4", False),
        # Any script, compared byte for byte: case and Unicode normalisation count.
        ("рм-101", "рм-101/Звонок_оператора_node_0_domain_0_nauss_0_1629126106_1.mp4", True),
        ("рм-101", "РМ-101/Звонок.mp4", False),  # noqa: RUF001 (Cyrillic on purpose)
        ("op101", "op101/通话录音_2026-11-27.mp4", True),
        ("op101", "op101/Ελληνικά ονόματα.mp4", True),
        (
            unicodedata.normalize("NFC", "poste-é"),
            unicodedata.normalize("NFD", "poste-é") + "/a.mp4",
            False,
        ),
        (
            unicodedata.normalize("NFD", "poste-é"),
            unicodedata.normalize("NFD", "poste-é/Café.mp4"),
            True,
        ),
    ],
)
def test_file_names_in_their_workstations_directory_byte_for_byte(
    client, zone, today, workstation, file_name, accepted
):
    values = row(zone, today, workstation=workstation, file_name=file_name)

    if accepted:
        assert insert(client, values) == 1
        assert stored()[0][:2] == (workstation, file_name)
    else:
        with pytest.raises(MySQLdb.OperationalError) as refused:
            insert(client, values)
        assert "FILE_NAME does not begin with WORKSTATION" in refused.value.args[1]
        assert stored() == []


@pytest.mark.parametrize("first", ["root", "client"])
def test_a_row_already_there_makes_the_clients_insert_skip_silently(client, zone, today, first):
    # Issue 12, story 3: someone wrote the name first (a valid row with another file's hash).
    pre_written = row(zone, today, content_hash=hashlib.sha256(b"other").hexdigest(), size=1)
    if first == "root":
        as_root(pre_written)
    else:
        insert(client, pre_written)

    assert insert(client, row(zone, today)) == 0  # skipped, not refused

    assert client.connection.show_warnings()[0][1] == 1062  # ER_DUP_ENTRY, as a warning
    assert stored() == [(
        "op101", pre_written["file_name"], 1, pre_written["content_hash"], 30
    )]  # fmt: skip


def test_insert_ignore_does_not_turn_a_refusal_into_a_warning(client, zone, today):
    good = row(zone, today, file_name="op101/good.mp4")
    bad = row(zone, today, file_name="op101/bad.mp4", content_hash=None)

    with pytest.raises(MySQLdb.OperationalError) as refused:
        insert(client, good, bad)

    assert refused.value.args[0] == SIGNAL
    assert stored() == []  # one statement: the good row went with the bad one


def test_a_refused_row_is_refused_also_when_its_name_is_taken(client, zone, today):
    # The trigger runs before the unique key is looked at: a duplicate does not hide a
    # bad row (nor does a bad duplicate change the row that is there).
    as_root(row(zone, today))

    with pytest.raises(MySQLdb.OperationalError):
        insert(client, row(zone, today, size=None))
    assert stored()[0][2] == 10_000


def test_the_old_clients_insert_of_the_seeds_columns_still_works(old_client, client, zone):
    old_insert = (
        "INSERT INTO VIDEO (ZONE_ID, PROJECTID, SESSIONID, FILE_NAME, RECORDING_DATE, "
        "STORAGE_DAYS) VALUES (%s, %s, %s, %s, %s, %s)"
    )
    values = [
        zone.pk,
        None,
        "node_0_domain_0_nauss_0_1700000000_1",
        "Сидоров.mp4",
        "2023-11-14",
        "30",
    ]

    assert old_client.execute(old_insert, values) == 1

    (video,) = Video.objects.all()
    assert (video.file_name, video.workstation, video.size, video.content_hash) == (
        "Сидоров.mp4", "", None, None
    )  # fmt: skip
    # The same statement from the new client's login is checked, and refused.
    with pytest.raises(MySQLdb.OperationalError) as refused:
        client.execute(old_insert, [*values[:3], "Петров.mp4", *values[4:]])
    assert refused.value.args[1] == REFUSED + "WORKSTATION is empty or contains '/'"


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO `CLIENT_LOGIN` (`USER`) VALUES ('x')",
        "DELETE FROM `CLIENT_LOGIN`",
        "UPDATE `CLIENT_LOGIN` SET `USER` = 'x'",
        "SELECT `USER` FROM `CLIENT_LOGIN`",
        "DROP TRIGGER `VIDEO_CLIENT_ROW_CHECK`",
        "CREATE TRIGGER `mine` BEFORE INSERT ON `VIDEO` FOR EACH ROW SET @x = 1",
    ],
)
def test_the_client_login_cannot_undo_its_checks(client, statement):
    with pytest.raises(DENIED) as info:
        client.execute(statement)
    assert "denied" in str(info.value).lower()


def test_the_client_grants_statement_lists_the_login_and_may_run_again(client_account, zone):
    statements = client_grants(
        zone="kursk", database=client_account.name, account=f"'{client_account.user}'@'%'"
    )
    with connection.cursor() as cursor:
        for _ in range(2):
            for statement in statements:
                cursor.execute(statement)
        cursor.execute("SELECT `USER`, `ZONE_ID` FROM `CLIENT_LOGIN`")
        assert cursor.fetchall() == ((client_account.user, zone.pk),)


def test_a_login_not_listed_is_not_checked(client_account, zone, today):
    # Another deployment's client name, listed; this one's not: its rows go in unchecked.
    ClientDatabaseLogin.objects.filter(user=client_account.user).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            client_grants(zone="kursk", database=client_account.name, account="'other'@'%'")[-1]
        )
    conn = connect(client_account)
    try:
        cursor = conn.cursor()
        assert insert(cursor, row(zone, today, size=None, content_hash=None, hash_origin=None)) == 1
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("account", "literal"),
    [
        ("'opvideo_client'@'%'", "'opvideo_client'"),
        ("`opvideo_client`@`10.%`", "'opvideo_client'"),
        ("opvideo_client@localhost", "'opvideo_client'"),
        ("'o''brien'@'%'", "'o''brien'"),
        ("'user@site'@'%'", "'user@site'"),
    ],
)
def test_the_listed_name_is_the_accounts_user_name(account, literal):
    statement = client_grants(zone="kursk", account=account)[-1]
    assert statement == (
        f"INSERT INTO `opvideo`.`CLIENT_LOGIN` (`USER`, `ZONE_ID`) SELECT {literal}, `id` "  # noqa: S608
        "FROM `opvideo`.`CONFIG` WHERE `ZONE` = 'kursk' "
        "ON DUPLICATE KEY UPDATE `ZONE_ID` = VALUES(`ZONE_ID`);"
    )


def test_the_trigger_is_there_and_checks_only_inserts(transactional_db):
    with server_connect(connection.settings_dict["NAME"]) as conn:
        cursor = conn.cursor()
        cursor.execute(
            "SELECT TRIGGER_NAME, EVENT_MANIPULATION, ACTION_TIMING "
            "FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = DATABASE() "
            "AND EVENT_OBJECT_TABLE = 'VIDEO'"
        )
        assert cursor.fetchall() == (("VIDEO_CLIENT_ROW_CHECK", "INSERT", "BEFORE"),)


def test_migrate_without_the_trigger_privilege_says_what_is_missing_and_can_be_rerun():
    """On a scratch database: migrate as a user that may change tables but not create
    triggers, as a site might have set up its web user."""
    name = f"opv_trg_{secrets.token_hex(4)}"
    user, password = f"opvm_{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    root = server_connect(autocommit=True)
    cursor = root.cursor()
    cursor.execute(f"CREATE DATABASE `{name}`")
    try:
        manage("migrate", "client_agent", "0003", "-v0", env={"DATABASE_URL": database_url(name)})
        cursor.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
        cursor.execute(
            "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, REFERENCES "
            f"ON `{name}`.* TO '{user}'@'%'"
        )
        server = environ.Env.db_url_config(database_url(name))
        url = f"mysql://{user}:{password}@{server['HOST']}:{server['PORT'] or 3306}/{name}"

        denied = manage("migrate", "-v0", env={"DATABASE_URL": url}, check=False)

        assert denied.returncode != 0
        last = denied.stderr.strip().splitlines()[-1]
        assert last.startswith(
            "django.core.exceptions.ImproperlyConfigured: Creating the VIDEO trigger "
            "VIDEO_CLIENT_ROW_CHECK needs the TRIGGER privilege for the database user that "
            f"runs migrate (GRANT TRIGGER ON `{name}`.* TO <that user>)"
        ), denied.stderr
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s", [name]
        )
        assert cursor.fetchone() == (0,)

        cursor.execute(f"GRANT TRIGGER ON `{name}`.* TO '{user}'@'%'")
        # A later step, client_agent.0006, creates the view CLIENT_ZONE_KEY.
        denied = manage("migrate", "-v0", env={"DATABASE_URL": url}, check=False)
        last = denied.stderr.strip().splitlines()[-1]
        assert last.startswith(
            "django.core.exceptions.ImproperlyConfigured: Creating the view CLIENT_ZONE_KEY "
            "needs the CREATE VIEW privilege for the database user that runs migrate (GRANT "
            f"CREATE VIEW ON `{name}`.* TO <that user>)"
        ), denied.stderr

        cursor.execute(f"GRANT CREATE VIEW ON `{name}`.* TO '{user}'@'%'")
        manage("migrate", "-v0", env={"DATABASE_URL": url})

        cursor.execute(
            "SELECT TRIGGER_NAME, DEFINER FROM information_schema.TRIGGERS "
            "WHERE TRIGGER_SCHEMA = %s ORDER BY TRIGGER_NAME",
            [name],
        )
        assert cursor.fetchall() == (
            ("VIDEO_CLIENT_ROW_CHECK", f"{user}@%"),
            ("WORKSTATION_CLIENT_ZONE_INSERT", f"{user}@%"),
            ("WORKSTATION_CLIENT_ZONE_UPDATE", f"{user}@%"),
        )
        cursor.execute(
            "SELECT DEFINER, SECURITY_TYPE FROM information_schema.VIEWS "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = 'CLIENT_ZONE_KEY'",
            [name],
        )
        assert cursor.fetchall() == ((f"{user}@%", "DEFINER"),)
    finally:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        root.close()
