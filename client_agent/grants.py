"""The MySQL/MariaDB privileges of the workstation client's database user, from the code.

The client reads the CONFIG columns listed in ``selectors.CLIENT_ZONE_FIELDS``, inserts (and
reads back) the VIDEO columns of ``storage.registration``, and writes its heartbeat table;
these statements grant exactly that, so the list cannot drift from what the code does.
``manage.py client_grants`` prints them; the README shows them for the default names.
"""

from __future__ import annotations

from storage.models import Video
from storage.registration import CONFIRM_FIELDS, REGISTER_FIELDS
from zones.models import Zone

from .models import Workstation
from .selectors import CLIENT_ZONE_FIELDS


def _columns(model, names) -> str:
    return ", ".join(f"`{model._meta.get_field(name).column}`" for name in names)


def client_grants(*, database: str = "opvideo", account: str = "'opvideo_client'@'%'") -> list[str]:
    """GRANT statements for ``account`` (``'user'@'host'``) on ``database``."""
    config = f"`{database}`.`{Zone._meta.db_table}`"
    video = f"`{database}`.`{Video._meta.db_table}`"
    heartbeat = f"`{database}`.`{Workstation._meta.db_table}`"
    return [
        f"GRANT SELECT ({_columns(Zone, CLIENT_ZONE_FIELDS)}) ON {config} TO {account};",
        f"GRANT INSERT ({_columns(Video, REGISTER_FIELDS)}), "
        f"SELECT ({_columns(Video, CONFIRM_FIELDS)}) ON {video} TO {account};",
        f"GRANT SELECT, INSERT, UPDATE ON {heartbeat} TO {account};",
    ]
