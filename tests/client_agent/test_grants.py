"""The client's database user: the README's GRANTs are what the code needs, and nothing more
(the cycle tests run the client as this user; here, what it must not be able to do)."""

from __future__ import annotations

import MySQLdb
import pytest

from client_agent.grants import client_grants
from tests.client_agent.conftest import db_connections_of
from tests.factories import make_zone
from tests.helpers import REPO, manage

DENIED = (MySQLdb.OperationalError, MySQLdb.ProgrammingError)


def test_the_readme_gives_the_grants_the_code_needs():
    readme = REPO.joinpath("README.md").read_text()
    for statement in client_grants():
        assert statement in readme


def test_manage_py_prints_them_for_any_database_and_host():
    out = manage("client_grants", "--database", "calls", "--host", "10.%").stdout.splitlines()
    assert out[0] == "CREATE USER 'opvideo_client'@'10.%' IDENTIFIED BY '<password>';"
    assert out[1:] == client_grants(database="calls", account="'opvideo_client'@'10.%'")


@pytest.fixture
def as_client(client_account, transactional_db):
    conn = MySQLdb.connect(
        host=client_account.host,
        port=client_account.port,
        user=client_account.user,
        password=client_account.password,
        database=client_account.name,
    )
    yield conn.cursor()
    conn.close()


def test_the_client_user_reads_its_zone_columns(as_client):
    zone = make_zone(name="kursk")
    as_client.execute(
        "SELECT `id`, `SERVER`, `RSA_KEY`, `PATH_SRC` FROM `CONFIG` WHERE `ZONE` = 'kursk'"
    )
    assert as_client.fetchone()[0] == zone.pk


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT `LINK_SECRET` FROM `CONFIG`",  # signs video links: not the workstations' business
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
