"""The MySQL/MariaDB privileges of the retention workers' database user, from the code.

The worker reads the CONFIG columns of ``retention.PURGE_ZONE_FIELDS`` and the VIDEO columns
of ``retention.PURGE_VIDEO_READ_FIELDS``, writes only DELETE_DATE, and records its runs; these
statements grant exactly that, so the list cannot drift from what the code does.
``manage.py retention_grants`` prints them; the README shows them for the default names.
"""

from __future__ import annotations

from zones.models import Zone

from .models import PurgeRun, Video
from .retention import PURGE_VIDEO_READ_FIELDS, PURGE_VIDEO_WRITE_FIELDS, PURGE_ZONE_FIELDS


def grant_columns(model, names) -> str:
    """The column list of a column-level GRANT for ``names`` (model field names)."""
    return ", ".join(f"`{model._meta.get_field(name).column}`" for name in names)


def grant_table(database: str, model) -> str:
    return f"`{database}`.`{model._meta.db_table}`"


def retention_grants(*, database: str = "opvideo", account: str = "'opvideo_rm'@'%'") -> list[str]:
    """GRANT statements for ``account`` (``'user'@'host'``) on ``database``."""
    config = grant_table(database, Zone)
    video = grant_table(database, Video)
    runs = grant_table(database, PurgeRun)
    return [
        f"GRANT SELECT ({grant_columns(Zone, PURGE_ZONE_FIELDS)}) ON {config} TO {account};",
        f"GRANT SELECT ({grant_columns(Video, PURGE_VIDEO_READ_FIELDS)}), "
        f"UPDATE ({grant_columns(Video, PURGE_VIDEO_WRITE_FIELDS)}) ON {video} TO {account};",
        f"GRANT SELECT, INSERT, UPDATE ON {runs} TO {account};",
    ]
