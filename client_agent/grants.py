"""The MySQL/MariaDB privileges of a zone's workstation clients' database user, from the code.

Each zone's workstations log in as a user of their own (``opvideo_client_<zone>`` by
default). It reads the non-secret CONFIG columns listed in ``selectors.CLIENT_ZONE_FIELDS``
and, through the view CLIENT_ZONE_KEY, only its own zone's sealed ssh key (migration
``0006_client_zone_key_view``); it inserts (and reads back) the VIDEO columns of
``storage.registration``, and writes its heartbeat table. These statements grant exactly
that, so the list cannot drift from what the code does. No key column of CONFIG is granted:
not RSA_KEY, CLIENT_KEY, CLIENT_RSA_KEY nor LINK_SECRET.

The last statement lists the account's user name in CLIENT_LOGIN with its zone: that is what
the view filters on, and what makes VIDEO's and WORKSTATION's triggers check every row it
writes (migrations ``0004_client_row_checks``, ``0007_client_zone_checks``); it may be run any
number of times, and run for another zone it moves the login there. ``manage.py
client_grants --zone Z`` prints them; the README shows them for one zone.
"""

from __future__ import annotations

from storage.grants import grant_columns, grant_table
from storage.models import Video
from storage.registration import CONFIRM_FIELDS, REGISTER_FIELDS
from zones.models import Zone
from zones.services import SECRET_FIELDS
from zones.validators import zone_name_validator

from .models import ClientDatabaseLogin, ClientZoneKey, Workstation
from .selectors import CLIENT_ZONE_FIELDS

USER_PREFIX = "opvideo_client_"


def client_user_default(*, zone: str) -> str:
    """The database user name of a zone's workstations unless another is chosen."""
    return f"{USER_PREFIX}{zone}"


def client_grants(*, zone: str, database: str = "opvideo", account: str | None = None) -> list[str]:
    """GRANT statements for ``account`` (``'user'@'host'``, by default the zone's default
    user from any host) on ``database``, listing it for the zone called ``zone``."""
    zone_name_validator(zone)  # goes into the SQL below: a slug, nothing to escape
    account = account or f"'{client_user_default(zone=zone)}'@'%'"
    leaked = SECRET_FIELDS & set(CLIENT_ZONE_FIELDS)
    if leaked:  # pragma: no cover - a guard for whoever edits CLIENT_ZONE_FIELDS
        raise ValueError(f"secret CONFIG fields must not be granted: {sorted(leaked)}")
    config = grant_table(database, Zone)
    key_view = grant_table(database, ClientZoneKey)
    video = grant_table(database, Video)
    heartbeat = grant_table(database, Workstation)
    logins = grant_table(database, ClientDatabaseLogin)
    login = ClientDatabaseLogin._meta.get_field("user").column
    login_zone = ClientDatabaseLogin._meta.get_field("zone").column
    zone_name = Zone._meta.get_field("name").column
    return [
        f"GRANT SELECT ({grant_columns(Zone, CLIENT_ZONE_FIELDS)}) ON {config} TO {account};",
        f"GRANT SELECT ON {key_view} TO {account};",
        f"GRANT INSERT ({grant_columns(Video, REGISTER_FIELDS)}), "
        f"SELECT ({grant_columns(Video, CONFIRM_FIELDS)}) ON {video} TO {account};",
        f"GRANT SELECT, INSERT, UPDATE ON {heartbeat} TO {account};",
        # Not INSERT IGNORE: that would store a name too long for the column cut short, and
        # the trigger would then check nobody. The name is escaped by _user_literal.
        f"INSERT INTO {logins} (`{login}`, `{login_zone}`) "  # noqa: S608
        f"SELECT {_user_literal(account)}, `{Zone._meta.pk.column}` FROM {config} "
        f"WHERE `{zone_name}` = '{zone}' "
        f"ON DUPLICATE KEY UPDATE `{login_zone}` = VALUES(`{login_zone}`);",
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
