"""The MySQL/MariaDB privileges of the workstation client's database user, from the code.

The client reads the CONFIG columns listed in ``selectors.CLIENT_ZONE_FIELDS``, inserts (and
reads back) the VIDEO columns of ``storage.registration``, and writes its heartbeat table;
these statements grant exactly that, so the list cannot drift from what the code does.
``manage.py client_grants`` prints them; the README shows them for the default names.
"""

from __future__ import annotations

from storage.grants import grant_columns, grant_table
from storage.models import Video
from storage.registration import CONFIRM_FIELDS, REGISTER_FIELDS
from zones.models import Zone

from .models import Workstation
from .selectors import CLIENT_ZONE_FIELDS


def client_grants(*, database: str = "opvideo", account: str = "'opvideo_client'@'%'") -> list[str]:
    """GRANT statements for ``account`` (``'user'@'host'``) on ``database``."""
    config = grant_table(database, Zone)
    video = grant_table(database, Video)
    heartbeat = grant_table(database, Workstation)
    return [
        f"GRANT SELECT ({grant_columns(Zone, CLIENT_ZONE_FIELDS)}) ON {config} TO {account};",
        f"GRANT INSERT ({grant_columns(Video, REGISTER_FIELDS)}), "
        f"SELECT ({grant_columns(Video, CONFIRM_FIELDS)}) ON {video} TO {account};",
        f"GRANT SELECT, INSERT, UPDATE ON {heartbeat} TO {account};",
    ]
