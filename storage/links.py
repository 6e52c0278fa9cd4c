"""Signed, expiring links to recordings.

The token is exactly what nginx's ``secure_link`` module checks with
``secure_link_md5 "$secure_link_expires$uri <zone link secret>"``: the base64url MD5 (no
padding) of the expiry, the *decoded* request path and the secret. The embedded player
(storage/views.py) checks the same token the same way, so one link format serves both.

MD5 is what nginx offers here; the secret is long and random, and links expire, so the
weakness of MD5 to collisions does not open a way to forge a link for another file.
"""

import base64
import enum
import hashlib
import hmac
import logging
from datetime import datetime
from urllib.parse import quote, urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from zones.models import Zone

from .models import Video

logger = logging.getLogger(__name__)


class LinkCheck(enum.Enum):
    VALID = "valid"
    BAD = "bad"  # missing, malformed or wrong signature: nginx answers 403
    EXPIRED = "expired"  # right signature, past its time: nginx answers 410


def link_token(*, uri: str, expires: int, secret: str) -> str:
    message = f"{expires}{uri} {secret}".encode()
    digest = hashlib.md5(message).digest()  # noqa: S324 - the algorithm nginx's secure_link uses
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def link_check(
    *, uri: str, md5: str | None, expires: str | None, secret: str, now: datetime | None = None
) -> LinkCheck:
    """Decide a request the way nginx's secure_link does: signature first, then expiry."""
    if not secret or not md5 or not expires or not expires.isdigit():
        return LinkCheck.BAD
    expected = link_token(uri=uri, expires=int(expires), secret=secret)
    if not hmac.compare_digest(expected.encode(), md5.encode("utf-8", "surrogateescape")):
        return LinkCheck.BAD
    now_ts = int((now or timezone.now()).timestamp())
    if int(expires) < now_ts:
        return LinkCheck.EXPIRED
    return LinkCheck.VALID


def zone_base_url(*, zone: Zone) -> str | None:
    """Where browsers reach the zone's recordings, or None if they cannot."""
    if zone.public_address:
        default_port = {"http": 80, "https": 443}[zone.public_scheme]
        port = f":{zone.public_port}" if zone.public_port not in (None, default_port) else ""
        return f"{zone.public_scheme}://{zone.public_address}{port}"
    if settings.OPVIDEO_EMBEDDED_MEDIA:
        # Same origin as the page: the embedded player of ``make run``.
        return reverse("storage:embedded-media-root", kwargs={"zone_id": zone.pk}).rstrip("/")
    return None


def video_link(*, video: Video, download: bool = False, now: datetime | None = None) -> str | None:
    """A signed link to the recording, or None when it cannot be watched.

    None for a deleted recording, for a zone with no video server address, and for a zone
    without a link secret (a row inserted by hand the old way; the admin action
    "regenerate link secret" fixes it).
    """
    if video.delete_date is not None:
        return None
    zone = video.zone
    base = zone_base_url(zone=zone)
    if base is None:
        return None
    if not zone.link_secret:
        logger.error("zone %s has no link secret: regenerate it in the admin", zone.name)
        return None
    uri = "/" + video.file_name
    expires = int((now or timezone.now()).timestamp()) + settings.VIDEO_LINK_TTL
    query = {"md5": link_token(uri=uri, expires=expires, secret=zone.link_secret)}
    query["expires"] = str(expires)
    url = f"{base}{quote(uri, safe='/')}?{urlencode(query)}"
    return download_link(play_url=url) if download else url


def download_link(*, play_url: str) -> str:
    """The download link that goes with a play link of ``video_link``.

    The token covers the path and the expiry, not the query, so the play link's signature
    serves the download as well: one MD5 for both, not one each.
    """
    return f"{play_url}&download=1"
