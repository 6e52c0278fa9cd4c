"""Writes on recordings that are not the client's registration or the retention purge."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .models import Video


@transaction.atomic
def video_legal_hold_set(*, video: Video, hold: bool, reason: str = "") -> Video:
    """Place or lift a legal hold. A held recording is never purged, whatever its age.

    A hold needs a reason (it is what an auditor reads later); lifting keeps the reason
    field empty so a stale reason never looks current.
    """
    reason = reason.strip()
    if hold and not reason:
        raise ValidationError({"reason": _("Say why the recording must be kept.")})
    # Lock the row: the retention purge must see either the old or the new state. The
    # purge may have deleted the file while this waited for the lock, so whether it is
    # deleted is read from the locked row, not from the caller's copy.
    locked = Video.objects.select_for_update().get(pk=video.pk)
    if locked.delete_date is not None and hold:
        raise ValidationError(_("The recording has already been deleted."))
    locked.legal_hold = hold
    locked.legal_hold_reason = reason[:255] if hold else ""
    locked.save(update_fields=["legal_hold", "legal_hold_reason"])
    return locked
