"""The MySQL/MariaDB privileges of the retention workers' database user, from the code.

The worker reads the CONFIG columns of ``retention.PURGE_ZONE_FIELDS`` and the VIDEO columns
of ``retention.PURGE_VIDEO_READ_FIELDS``, writes only DELETE_DATE, deletes a deleted
recording's notes, and records its runs; its integrity check (``storage.integrity``) reads
and writes the VIDEO columns of its own tuples and records findings; its media read
(``storage.media``) reads the zone's file name pattern and writes the media columns; its
capacity snapshot (``storage.capacity``) reads the recordings' registration times and sizes
and the runs, writes the zone's days and adds snapshots. These
statements grant exactly that, so the list cannot drift from what the code does.
``manage.py retention_grants`` prints them; the README shows them for the default names.
"""

from __future__ import annotations

from zones.models import Zone

from .capacity.snapshot import (
    CAPACITY_DAY_PRIVILEGES,
    CAPACITY_SNAPSHOT_PRIVILEGES,
    CAPACITY_VIDEO_READ_FIELDS,
)
from .integrity import (
    FIXITY_FINDING_PRIVILEGES,
    FIXITY_VIDEO_READ_FIELDS,
    FIXITY_VIDEO_WRITE_FIELDS,
)
from .media.read import MEDIA_VIDEO_READ_FIELDS, MEDIA_VIDEO_WRITE_FIELDS, MEDIA_ZONE_FIELDS
from .models import IntegrityFinding, PurgeRun, StorageSnapshot, Video, VideoNote, ZoneDay
from .retention import (
    PURGE_NOTE_READ_FIELDS,
    PURGE_VIDEO_READ_FIELDS,
    PURGE_VIDEO_WRITE_FIELDS,
    PURGE_ZONE_FIELDS,
)


def grant_columns(model, names) -> str:
    """The column list of a column-level GRANT for ``names`` (model field names)."""
    return ", ".join(f"`{model._meta.get_field(name).column}`" for name in names)


def fields_union(*groups) -> tuple[str, ...]:
    """The fields of several parts' tuples, each once, in the order first named."""
    return tuple(dict.fromkeys(name for group in groups for name in group))


def grant_table(database: str, model) -> str:
    return f"`{database}`.`{model._meta.db_table}`"


def retention_grants(*, database: str = "opvideo", account: str = "'opvideo_rm'@'%'") -> list[str]:
    """GRANT statements for ``account`` (``'user'@'host'``) on ``database``."""
    config = grant_table(database, Zone)
    video = grant_table(database, Video)
    runs = grant_table(database, PurgeRun)
    findings = grant_table(database, IntegrityFinding)
    notes = grant_table(database, VideoNote)
    days = grant_table(database, ZoneDay)
    snapshots = grant_table(database, StorageSnapshot)
    zone_read = fields_union(PURGE_ZONE_FIELDS, MEDIA_ZONE_FIELDS)
    video_read = fields_union(
        PURGE_VIDEO_READ_FIELDS,
        FIXITY_VIDEO_READ_FIELDS,
        MEDIA_VIDEO_READ_FIELDS,
        CAPACITY_VIDEO_READ_FIELDS,
    )
    video_write = fields_union(
        PURGE_VIDEO_WRITE_FIELDS, FIXITY_VIDEO_WRITE_FIELDS, MEDIA_VIDEO_WRITE_FIELDS
    )
    return [
        f"GRANT SELECT ({grant_columns(Zone, zone_read)}) ON {config} TO {account};",
        f"GRANT SELECT ({grant_columns(Video, video_read)}), "
        f"UPDATE ({grant_columns(Video, video_write)}) ON {video} TO {account};",
        f"GRANT SELECT, INSERT, UPDATE ON {runs} TO {account};",
        f"GRANT {', '.join(FIXITY_FINDING_PRIVILEGES)} ON {findings} TO {account};",
        f"GRANT SELECT ({grant_columns(VideoNote, PURGE_NOTE_READ_FIELDS)}), DELETE ON {notes} "
        f"TO {account};",
        f"GRANT {', '.join(CAPACITY_DAY_PRIVILEGES)} ON {days} TO {account};",
        f"GRANT {', '.join(CAPACITY_SNAPSHOT_PRIVILEGES)} ON {snapshots} TO {account};",
    ]
