"""Integrity for life (fixity): stored recordings re-read against their hash by the zone
worker. ``check`` is the run, ``reading`` the safe, paced reading of one file."""

from .check import (
    FIXITY_FINDING_PRIVILEGES,
    FIXITY_VIDEO_READ_FIELDS,
    FIXITY_VIDEO_WRITE_FIELDS,
    IntegrityCheckError,
    IntegritySummary,
    videos_integrity_due,
    videos_verify_integrity,
)

__all__ = [
    "FIXITY_FINDING_PRIVILEGES",
    "FIXITY_VIDEO_READ_FIELDS",
    "FIXITY_VIDEO_WRITE_FIELDS",
    "IntegrityCheckError",
    "IntegritySummary",
    "videos_integrity_due",
    "videos_verify_integrity",
]
