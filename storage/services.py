"""Writes on recordings that are not the client's registration or the retention purge."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Video


@transaction.atomic
def video_legal_hold_set(
    *, video: Video, hold: bool, reason: str, by: str = "", at: datetime | None = None
) -> Video:
    """Place or lift a legal hold. A held recording is never purged, whatever its age.

    Either way needs a reason: it is what an auditor reads later, and lifting one lets the
    purge delete the recording, which deserves a word as much as keeping it. ``by`` and
    ``at`` say who placed the hold now in force and when (the page shows them beside the
    reason); lifting clears all three, so a stale hold never looks current. A change to the
    state the recording is already in is refused: it is a second click or a stale page, and
    would leave a misleading trail.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            {
                "reason": _("Say why the recording must be kept.")
                if hold
                else _("Say why the recording need no longer be kept.")
            }
        )
    # Lock the row: the retention purge must see either the old or the new state. The
    # purge may have deleted the file while this waited for the lock, so whether it is
    # deleted is read from the locked row, not from the caller's copy.
    locked = Video.objects.select_for_update().get(pk=video.pk)
    if locked.delete_date is not None and hold:
        raise ValidationError(_("The recording has already been deleted."))
    if locked.legal_hold == hold:
        raise ValidationError(
            _("The recording is already under a legal hold.")
            if hold
            else _("The recording is not under a legal hold.")
        )
    locked.legal_hold = hold
    locked.legal_hold_reason = reason[:255] if hold else ""
    locked.legal_hold_by = by[:150] if hold else ""
    locked.legal_hold_at = (at or timezone.now()) if hold else None
    locked.save(update_fields=["legal_hold", "legal_hold_reason", "legal_hold_by", "legal_hold_at"])
    return locked
