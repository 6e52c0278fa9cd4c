"""Per-zone secrets for workstations (issue 13, finding 1), against the real MariaDB as the
clients' own users and the real client.

Two zones, kursk and orel, each with its own client login made from ``client_grants``: what
one zone's workstation holds (its db.conf: its login and its zone key) opens nothing of the
other zone, and never the web's FIELD_ENCRYPTION_KEYS."""

from __future__ import annotations

import MySQLdb
import pytest
from django.db import connection

from client_agent.models import ClientDatabaseLogin, Workstation
from storage.models import Video
from tests.client_agent.conftest import client_login_register
from tests.client_agent.test_row_checks import REFUSED, SIGNAL, connect, insert, row
from tests.factories import make_zone
from tests.helpers import manage, subprocess_db_env
from zones import client_keys
from zones.models import Zone

DENIED = (MySQLdb.OperationalError, MySQLdb.ProgrammingError)
KEY_COLUMNS = ("RSA_KEY", "CLIENT_KEY", "CLIENT_RSA_KEY", "LINK_SECRET")

HEARTBEAT = (
    "INSERT INTO `WORKSTATION` (`HOST`, `ZONE_NAME`, `ZONE_ID`, `LAST_SEEN`, `LAST_SUCCESS`, "
    "`PENDING`, `UNPARSEABLE`, `DELIVERED`, `COLLISIONS`, `LAST_ERROR`, `VERSION`) "
    "VALUES (%s, %s, %s, NOW(), NOW(), 0, 0, 0, 0, %s, 'test') "
    "ON DUPLICATE KEY UPDATE `ZONE_NAME` = VALUES(`ZONE_NAME`), `ZONE_ID` = VALUES(`ZONE_ID`), "
    "`LAST_SEEN` = VALUES(`LAST_SEEN`), `LAST_SUCCESS` = VALUES(`LAST_SUCCESS`), "
    "`LAST_ERROR` = VALUES(`LAST_ERROR`)"
)  # the client's heartbeat_record upsert, as Django writes it for MariaDB


@pytest.fixture
def zones(transactional_db) -> dict[str, Zone]:
    return {name: make_zone(name=name, retention_days=30) for name in ("kursk", "orel")}


@pytest.fixture
def kursk(client_account, zones):
    """A cursor as kursk's workstations' login."""
    client_login_register(client_account, zone="kursk")
    conn = connect(client_account)
    yield conn.cursor()
    conn.close()


@pytest.fixture
def orel(other_client_account, zones):
    """A cursor as orel's workstations' login."""
    client_login_register(other_client_account, zone="orel")
    conn = connect(other_client_account)
    yield conn.cursor()
    conn.close()


def raw_config(zone: Zone, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT `{column}` FROM `CONFIG` WHERE id = %s", [zone.pk])  # noqa: S608
        return cursor.fetchone()[0]


def today():
    with connection.cursor() as cursor:
        cursor.execute("SELECT CURDATE()")
        return cursor.fetchone()[0]


# --- what a zone's login may read -----------------------------------------------------------


@pytest.mark.parametrize("column", KEY_COLUMNS)
@pytest.mark.parametrize("of", ["kursk", "orel"])
def test_a_zone_login_reads_no_key_column_of_any_zone(kursk, column, of):
    with pytest.raises(DENIED) as info:
        kursk.execute(f"SELECT `{column}` FROM `CONFIG` WHERE `ZONE` = %s", [of])  # noqa: S608
    assert "denied" in str(info.value).lower()


def test_each_login_sees_only_its_own_zones_sealed_key(kursk, orel, zones):
    kursk.execute("SELECT `ZONE_ID`, `CLIENT_RSA_KEY` FROM `CLIENT_ZONE_KEY`")
    assert kursk.fetchall() == ((zones["kursk"].pk, raw_config(zones["kursk"], "CLIENT_RSA_KEY")),)
    kursk.execute("SELECT COUNT(*) FROM `CLIENT_ZONE_KEY` WHERE `ZONE_ID` = %s", [zones["orel"].pk])
    assert kursk.fetchone() == (0,)

    orel.execute("SELECT `ZONE_ID` FROM `CLIENT_ZONE_KEY`")
    assert orel.fetchall() == ((zones["orel"].pk,),)


def test_a_login_listed_without_a_zone_or_not_listed_sees_no_key(kursk, client_account):
    # The old shared login, during the switch-over: listed, checked, but no zone's key.
    ClientDatabaseLogin.objects.filter(user=client_account.user).update(zone=None)
    kursk.execute("SELECT COUNT(*) FROM `CLIENT_ZONE_KEY`")
    assert kursk.fetchone() == (0,)

    ClientDatabaseLogin.objects.filter(user=client_account.user).delete()
    kursk.execute("SELECT COUNT(*) FROM `CLIENT_ZONE_KEY`")
    assert kursk.fetchone() == (0,)


def test_one_zones_key_does_not_open_another_zones_seal(kursk, zones):
    kursk.execute("SELECT `CLIENT_RSA_KEY` FROM `CLIENT_ZONE_KEY`")
    (own,) = kursk.fetchone()
    kursk_key = Zone.objects.get(name="kursk").client_key
    assert client_keys.unseal(client_key=kursk_key, sealed=own) == (
        Zone.objects.get(name="kursk").ssh_private_key
    )
    # Even handed orel's sealed key (it cannot read it), kursk's key does not open it.
    with pytest.raises(client_keys.SealDoesNotOpen):
        client_keys.unseal(client_key=kursk_key, sealed=raw_config(zones["orel"], "CLIENT_RSA_KEY"))


# --- what a zone's login may write ----------------------------------------------------------


def test_a_zone_login_cannot_register_a_recording_for_another_zone(kursk, orel, zones):
    for_orel = row(zones["orel"], today())

    with pytest.raises(MySQLdb.OperationalError) as refused:
        insert(kursk, for_orel)

    assert refused.value.args == (
        SIGNAL,
        REFUSED + "ZONE_ID is not the zone this database login is listed for in CLIENT_LOGIN",
    )
    assert not Video.objects.exists()
    assert insert(orel, for_orel) == 1  # orel's own login: accepted
    assert insert(kursk, row(zones["kursk"], today())) == 1


def test_the_old_shared_login_is_still_checked_but_not_held_to_a_zone(kursk, client_account, zones):
    ClientDatabaseLogin.objects.filter(user=client_account.user).update(zone=None)

    assert insert(kursk, row(zones["orel"], today())) == 1
    with pytest.raises(MySQLdb.OperationalError):
        insert(kursk, row(zones["orel"], today(), file_name="op101/b.mp4", size=None))


def test_a_heartbeat_is_its_logins_zones_whatever_it_says(kursk, zones):
    kursk.execute(HEARTBEAT, ["op101", "orel", zones["orel"].pk, ""])
    kursk.execute(HEARTBEAT, ["op102", "", None, "zone not found"])

    beats = dict(Workstation.objects.values_list("host", "zone__name"))
    assert beats == {"op101": "kursk", "op102": "kursk"}
    assert Workstation.objects.get(host="op101").zone_name == "orel"  # what it found


def test_a_zone_login_cannot_rewrite_another_zones_workstation(kursk, orel, zones):
    orel.execute(HEARTBEAT, ["op201", "orel", zones["orel"].pk, "broken: disk full"])
    before = Workstation.objects.get(host="op201")

    with pytest.raises(MySQLdb.OperationalError) as refused:
        kursk.execute(HEARTBEAT, ["op201", "orel", zones["orel"].pk, ""])

    assert refused.value.args == (
        SIGNAL,
        "workstation client's WORKSTATION row refused: HOST is another zone's workstation",
    )
    after = Workstation.objects.get(host="op201")
    assert (after.zone_id, after.last_error, after.last_seen) == (
        zones["orel"].pk, "broken: disk full", before.last_seen
    )  # fmt: skip
    orel.execute(HEARTBEAT, ["op201", "orel", zones["orel"].pk, ""])  # its own: fine
    assert Workstation.objects.get(host="op201").last_error == ""


def test_a_listed_login_keeps_its_zone_from_being_deleted(kursk, zones):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        zones["kursk"].delete()


# --- the client -----------------------------------------------------------------------------


def check_line(result, what: str) -> str:
    for line in result.stdout.splitlines():
        if line[5:].startswith(what + " "):
            return line
    raise AssertionError(f"no {what!r} line in:\n{result.stdout}\n{result.stderr}")


def test_check_says_which_key_is_missing_or_wrong(host, storage, client_account):
    orel = make_zone(name="orel")
    cases = [
        (
            {"OPVIDEO_ZONE_KEY": ""},
            "OPVIDEO_ZONE_KEY is not set in {conf}: it must hold zone kursk's client key, "
            "which an admin prints with `manage.py zone_client_key --zone kursk`",
        ),
        (
            {"OPVIDEO_ZONE_KEY": "not-a-key"},
            "OPVIDEO_ZONE_KEY in {conf} is not a zone client key (a Fernet key: 44 characters "
            "of url-safe base64); copy it again from `manage.py zone_client_key --zone kursk`",
        ),
        (
            {"OPVIDEO_ZONE_KEY": orel.client_key},
            "OPVIDEO_ZONE_KEY in {conf} does not fit zone kursk (another zone's key, or one "
            "replaced since): put the key `manage.py zone_client_key --zone kursk` prints into it",
        ),
    ]
    own_key = host.settings["OPVIDEO_ZONE_KEY"]
    for settings, expected in cases:
        host.configure(**settings)
        result = host.run("check")
        assert result.returncode == 1, result.stdout
        line = check_line(result, "zone key")
        assert line.startswith("FAIL") and line.endswith(expected.format(conf=host.config_file))
        steps = [line[5:].split(" ")[0] for line in result.stdout.splitlines()]
        assert "storage" not in steps  # nothing tried without the key
    host.configure(OPVIDEO_ZONE_KEY=own_key)

    # This database login is another zone's, or nobody's.
    client_login_register(client_account, zone="orel")
    line = check_line(host.run("check"), "zone key")
    assert f"the database login {client_account.user} is registered for zone orel, not kursk" in (
        line
    )
    assert "`manage.py client_grants --zone kursk`" in line
    ClientDatabaseLogin.objects.all().delete()
    line = check_line(host.run("check"), "zone key")
    assert f"the database login {client_account.user} is registered for no zone" in line
    client_login_register(client_account, zone="kursk")

    # The zone has no sealed key yet (a zone from before client keys).
    Zone.objects.filter(pk=storage.zone.pk).update(client_ssh_key="")
    line = check_line(host.run("check"), "zone key")
    assert line.endswith(
        "zone kursk has no sealed ssh key yet: an admin runs `manage.py zone_client_key --zone "
        "kursk` (it gives the zone its client key and seals the ssh key) and puts the printed "
        "key into OPVIDEO_ZONE_KEY"
    )

    manage("zone_client_key", "--zone", "kursk", env=subprocess_db_env())
    result = host.run("check")
    assert result.returncode == 0, result.stdout
    assert check_line(result, "zone key").startswith("OK")


def test_the_web_keys_in_db_conf_are_refused(host):
    from django.conf import settings

    host.configure(FIELD_ENCRYPTION_KEYS=",".join(settings.FIELD_ENCRYPTION_KEYS))
    for command in ("once", "check"):
        result = host.run(command)
        assert result.returncode == 2
        assert result.stderr.strip() == (
            f"opvideo client: {host.config_file} holds FIELD_ENCRYPTION_KEYS: remove that line. "
            "Workstations must never hold the web's keys; the client needs only its zone's key, "
            "OPVIDEO_ZONE_KEY (manage.py zone_client_key --zone <zone>)"
        )


def test_the_cycle_delivers_with_its_zones_key_alone_and_a_new_key_stops_it(host, storage):
    text = host.config_file.read_text()
    assert "FIELD_ENCRYPTION_KEYS" not in text and "OPVIDEO_ZONE_KEY=" in text
    first = host.record(1)

    result = host.run("once")

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"op101/{first.name}" in storage.stored()
    assert not first.exists()

    # The admin issues a new key: until db.conf has it, nothing is sent or deleted.
    new_key = manage(
        "zone_client_key", "--zone", "kursk", "--new", env=subprocess_db_env()
    ).stdout  # fmt: skip
    second = host.record(2)
    recorded = second.read_bytes()
    result = host.run("once")
    assert result.returncode == 1
    assert "OPVIDEO_ZONE_KEY in" in result.stdout and "does not fit zone kursk" in result.stdout
    assert second.exists() and f"op101/{second.name}" not in storage.stored()

    host.configure(OPVIDEO_ZONE_KEY=new_key)
    result = host.run("once")
    assert result.returncode == 0, result.stdout + result.stderr
    assert storage.stored()[f"op101/{second.name}"] == recorded
    assert not second.exists()
