"""How a recording's integrity reads on its page and in the API: the zone worker's last
check (storage.integrity) and where its hash was taken, in the operators' words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from storage.models import HashOrigin, Video

VERIFIED = "verified"
FAILED = "failed"
UNCHECKED = "unchecked"


@dataclass(frozen=True)
class IntegrityState:
    state: str  # VERIFIED, FAILED or UNCHECKED
    checked_at: datetime | None
    hash_origin: str | None  # HashOrigin, or None: no hash yet

    @classmethod
    def of(cls, video: Video) -> IntegrityState:
        if video.integrity_checked_at is None or video.integrity_ok is None:
            return cls(UNCHECKED, None, video.hash_origin)
        state = VERIFIED if video.integrity_ok else FAILED
        return cls(state, video.integrity_checked_at, video.hash_origin)

    def text(self) -> str:
        if self.state == UNCHECKED:
            return _("Integrity not checked yet")
        day = formats.date_format(timezone.localtime(self.checked_at).date(), "SHORT_DATE_FORMAT")
        if self.state == VERIFIED:
            return _("Integrity verified on %(date)s") % {"date": day}
        return _("Integrity check failed on %(date)s") % {"date": day}

    def origin_text(self) -> str:
        if self.hash_origin == HashOrigin.WORKSTATION:
            return _("taken on the workstation before sending")
        if self.hash_origin == HashOrigin.STORAGE:
            return _("taken on storage (weaker: proves only that the file has not changed since)")
        return _("none yet")

    def as_json(self) -> dict:
        return {
            "state": self.state,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            "hash_origin": self.hash_origin,
        }
