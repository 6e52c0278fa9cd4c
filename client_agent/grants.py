"""The MySQL/MariaDB privileges of the workstation client's database user, from the code.

The client reads the CONFIG columns listed in ``selectors.CLIENT_ZONE_FIELDS``, inserts (and
reads back) the VIDEO columns of ``storage.registration``, and writes its heartbeat table;
these statements grant exactly that, so the list cannot drift from what the code does.
The last statement lists the account's user name in CLIENT_LOGIN, so that VIDEO's trigger
checks every row it inserts (migration ``0004_client_row_checks``); it may be run any number
of times. ``manage.py client_grants`` prints them; the README shows them for the default
names.
"""

from __future__ import annotations

from storage.grants import grant_columns, grant_table
from storage.models import Video
from storage.registration import CONFIRM_FIELDS, REGISTER_FIELDS
from zones.models import Zone

from .models import ClientDatabaseLogin, Workstation
from .selectors import CLIENT_ZONE_FIELDS


def client_grants(*, database: str = "opvideo", account: str = "'opvideo_client'@'%'") -> list[str]:
    """GRANT statements for ``account`` (``'user'@'host'``) on ``database``."""
    config = grant_table(database, Zone)
    video = grant_table(database, Video)
    heartbeat = grant_table(database, Workstation)
    logins = grant_table(database, ClientDatabaseLogin)
    login = ClientDatabaseLogin._meta.get_field("user").column
    return [
        f"GRANT SELECT ({grant_columns(Zone, CLIENT_ZONE_FIELDS)}) ON {config} TO {account};",
        f"GRANT INSERT ({grant_columns(Video, REGISTER_FIELDS)}), "
        f"SELECT ({grant_columns(Video, CONFIRM_FIELDS)}) ON {video} TO {account};",
        f"GRANT SELECT, INSERT, UPDATE ON {heartbeat} TO {account};",
        # Not INSERT IGNORE: that would store a name too long for the column cut short, and
        # the trigger would then check nobody. The name is escaped by _user_literal.
        f"INSERT INTO {logins} (`{login}`) VALUES ({_user_literal(account)}) "  # noqa: S608
        f"ON DUPLICATE KEY UPDATE `{login}` = `{login}`;",
    ]


def _user_literal(account: str) -> str:
    """The user name of ``account`` (``'user'@'host'``, quoted or not) as an SQL string.

    Split at the last '@': a host never contains one, a quoted user name may.
    """
    user, at, _host = account.rpartition("@")
    if not at or not user:
        raise ValueError(f"not an account of the form 'user'@'host': {account!r}")
    if len(user) >= 2 and user[0] == user[-1] and user[0] in "'`\"":
        quote = user[0]
        user = user[1:-1].replace(quote * 2, quote)
    return "'" + user.replace("\\", "\\\\").replace("'", "''") + "'"
