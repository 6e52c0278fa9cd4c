"""Signed, expiring links to recordings.

The token is exactly what nginx's ``secure_link`` module checks with
``secure_link_md5 "$secure_link_expires$uri$arg_download <zone link secret>"``: the base64url
MD5 (no padding) of the expiry, the *decoded* request path, the raw ``download`` argument
("1" on a download link, empty on a play link) and the secret. The download flag is signed so
that a play link with ``&download=1`` appended is refused: a download is only reached through
the search service's download view, which audits it. The embedded player (storage/views.py)
checks the same token the same way, so one link format serves both. A recording's previews
(``/.previews/<FILE_NAME>/poster.jpg`` and the rest, storage.media) are signed the same way,
each over its own path.

MD5 is what nginx offers here; the secret is long and random, and links expire, so the
weakness of MD5 to collisions does not open a way to forge a link for another file.
"""

import base64
import enum
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from zones.models import Zone

from .media.tree import POSTER, SPRITE, THUMBS, preview_uri
from .models import Video

logger = logging.getLogger(__name__)


class LinkCheck(enum.Enum):
    VALID = "valid"
    BAD = "bad"  # missing, malformed or wrong signature: nginx answers 403
    EXPIRED = "expired"  # right signature, past its time: nginx answers 410


def link_token(*, uri: str, expires: int, secret: str, download: str = "") -> str:
    """``download`` is the link's ``download`` argument as sent: "1" or "" (none)."""
    message = f"{expires}{uri}{download} {secret}".encode()
    digest = hashlib.md5(message).digest()  # noqa: S324 - the algorithm nginx's secure_link uses
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def link_check(
    *,
    uri: str,
    md5: str | None,
    expires: str | None,
    secret: str,
    download: str = "",
    now: datetime | None = None,
) -> LinkCheck:
    """Decide a request the way nginx's secure_link does: signature first, then expiry."""
    if not secret or not md5 or not expires or not expires.isdigit():
        return LinkCheck.BAD
    expected = link_token(uri=uri, expires=int(expires), secret=secret, download=download)
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


def video_playable(*, video: Video) -> bool:
    """Whether ``video_link`` can give a link, told without signing one (so without the
    zone's secret): not deleted, and its zone has an address browsers reach."""
    return video.delete_date is None and zone_base_url(zone=video.zone) is not None


def video_link(*, video: Video, download: bool = False, now: datetime | None = None) -> str | None:
    """A signed link to the recording, or None when it cannot be watched.

    None for a deleted recording, for a zone with no video server address, and for a zone
    without a link secret (a row inserted by hand the old way; the admin action
    "regenerate link secret" fixes it).
    """
    if video.delete_date is not None:
        return None
    return _signed_url(zone=video.zone, uri="/" + video.file_name, download=download, now=now)


@dataclass(frozen=True)
class PreviewLinks:
    """Signed links to a recording's previews (storage.media): the poster frame, the
    thumbnail sprite and its WebVTT index. The tiles' geometry is on the row
    (``Video.preview``); the index's cues name ``sprite.jpg`` relative to itself, which a
    browser cannot fetch without a signature, so a page places tiles from the geometry."""

    poster: str
    sprite: str
    thumbs: str


def video_preview_links(*, video: Video, now: datetime | None = None) -> PreviewLinks | None:
    """Signed links to the recording's previews, made like its video link (the same token
    over each preview's own path, the same secret and expiry), or None when it has no
    previews (not read yet, or none could be made) or no link can be made (deleted, no
    video server address, no secret)."""
    if video.delete_date is not None or not video.preview:
        return None
    expires = _expires(now=now)
    links = {
        part: _signed_url(
            zone=video.zone,
            uri=preview_uri(file_name=video.file_name, part=name),
            expires=expires,
        )
        for part, name in (("poster", POSTER), ("sprite", SPRITE), ("thumbs", THUMBS))
    }
    if None in links.values():
        return None
    return PreviewLinks(**links)


def _expires(*, now: datetime | None) -> int:
    return int((now or timezone.now()).timestamp()) + settings.VIDEO_LINK_TTL


def _signed_url(
    *,
    zone: Zone,
    uri: str,
    download: bool = False,
    now: datetime | None = None,
    expires: int | None = None,
) -> str | None:
    """``uri`` (decoded, from PATH_DST's root) on the zone's video server with its token, or
    None when the zone has no address or no secret."""
    base = zone_base_url(zone=zone)
    if base is None:
        return None
    if not zone.link_secret:
        logger.error("zone %s has no link secret: regenerate it in the admin", zone.name)
        return None
    expires = expires if expires is not None else _expires(now=now)
    flag = "1" if download else ""
    query = {"md5": link_token(uri=uri, expires=expires, secret=zone.link_secret, download=flag)}
    query["expires"] = str(expires)
    if download:
        query["download"] = flag
    return f"{base}{quote(uri, safe='/')}?{urlencode(query)}"


def query_arg_raw(*, query_string: str, name: str) -> str:
    """One argument of a query string as nginx's ``$arg_<name>`` gives it.

    The first occurrence, the name matched without regard to case, the value *not*
    percent-decoded, "" when absent: Django's ``request.GET`` decodes and takes the last one,
    and the embedded view must sign-check the very bytes nginx does.
    """
    for part in query_string.split("&"):
        key, sep, value = part.partition("=")
        if sep and key.lower() == name.lower():
            return value
    return ""
