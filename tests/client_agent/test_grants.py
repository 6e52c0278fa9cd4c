"""The client's database user: the README's GRANTs are what the code needs, and nothing more
(the cycle tests run the client as this user; here, what it must not be able to do)."""

from __future__ import annotations

import MySQLdb
import pytest

from client_agent.grants import client_grants
from tests.client_agent.conftest import client_login_register, db_connections_of
from tests.factories import make_zone
from tests.helpers import REPO, manage, subprocess_db_env

DENIED = (MySQLdb.OperationalError, MySQLdb.ProgrammingError)


def test_the_readme_gives_the_grants_the_code_needs():
    readme = REPO.joinpath("README.md").read_text()
    for statement in client_grants(zone="kursk"):
        assert statement in readme


def test_no_key_column_of_config_is_granted():
    (config,) = [s for s in client_grants(zone="kursk") if "`CONFIG` TO" in s]
    for column in ("RSA_KEY", "CLIENT_KEY", "CLIENT_RSA_KEY", "LINK_SECRET"):
        assert f"`{column}`" not in config


def test_manage_py_prints_them_for_a_zone_any_database_and_host(transactional_db):
    make_zone(name="kursk")
    out = manage(
        "client_grants", "--zone", "kursk", "--database", "calls", "--host", "10.%",
        env=subprocess_db_env(),
    ).stdout.splitlines()  # fmt: skip
    account = "'opvideo_client_kursk'@'10.%'"
    assert out[0] == f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '<password>';"
    assert out[1:] == client_grants(zone="kursk", database="calls", account=account)

    named = manage(
        "client_grants", "--zone", "kursk", "--user", "site1", env=subprocess_db_env()
    ).stdout  # fmt: skip
    assert "TO 'site1'@'%';" in named and "SELECT 'site1', `id`" in named

    unknown = manage("client_grants", "--zone", "orel", env=subprocess_db_env(), check=False)
    assert unknown.returncode == 1 and "no zone named 'orel'" in unknown.stderr


@pytest.fixture
def as_client(client_account, transactional_db):
    make_zone(name="kursk")
    client_login_register(client_account, zone="kursk")
    conn = MySQLdb.connect(
        host=client_account.host,
        port=client_account.port,
        user=client_account.user,
        password=client_account.password,
        database=client_account.name,
    )
    yield conn.cursor()
    conn.close()


def test_the_client_user_reads_its_zone_columns_and_sealed_key(as_client):
    as_client.execute("SELECT `id`, `SERVER`, `PATH_SRC` FROM `CONFIG` WHERE `ZONE` = 'kursk'")
    zone_id = as_client.fetchone()[0]
    as_client.execute("SELECT `ZONE_ID`, `CLIENT_RSA_KEY` FROM `CLIENT_ZONE_KEY`")
    ((seen, sealed),) = as_client.fetchall()
    assert seen == zone_id and sealed.startswith("gAAAAA")


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT `LINK_SECRET` FROM `CONFIG`",  # signs video links: not the workstations' business
        # Key material: every zone's ssh key, its client key and its sealed copy.
        "SELECT `RSA_KEY` FROM `CONFIG`",
        "SELECT `CLIENT_KEY` FROM `CONFIG`",
        "SELECT `CLIENT_RSA_KEY` FROM `CONFIG`",
        "UPDATE `CLIENT_ZONE_KEY` SET `CLIENT_RSA_KEY` = ''",
        "SELECT `PUBLIC_ADDRESS` FROM `CONFIG`",
        "SELECT * FROM `CONFIG`",
        "UPDATE `CONFIG` SET `SPEED` = 1",
        "DELETE FROM `CONFIG`",
        "SELECT `SESSIONID` FROM `VIDEO`",  # no reading other people's recordings
        "UPDATE `VIDEO` SET `LEGAL_HOLD` = 0",
        "DELETE FROM `VIDEO`",
        "INSERT INTO `VIDEO` (`ZONE_ID`, `SESSIONID`, `FILE_NAME`, `RECORDING_DATE`, `LEGAL_HOLD`)"
        " VALUES (1, 's', 'f', '2026-01-01', 1)",
        "DELETE FROM `WORKSTATION`",
        "SELECT * FROM `auth_user`",
    ],
)
def test_the_client_user_may_not(as_client, statement):
    with pytest.raises(DENIED) as info:
        as_client.execute(statement)
    assert "denied" in str(info.value).lower()


def test_the_processlist_shows_the_client_users_connections(as_client, client_account):
    # What test_cycle relies on to show the client holds no connection while it sends.
    assert db_connections_of(client_account.user) == 1
