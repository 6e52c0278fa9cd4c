"""Authentication glue: directory outages, client addresses, API tokens."""

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from .models import ApiToken

logger = logging.getLogger(__name__)

LAST_USED_RESOLUTION = timedelta(minutes=1)


def directory_error_mark(sender, context, user, request, exception, **kwargs) -> None:
    """django-auth-ldap's ``ldap_error`` receiver: remember on the request that the directory
    failed (rather than the password), so the login page can say so."""
    import ldap

    if request is not None and isinstance(
        exception, ldap.SERVER_DOWN | ldap.TIMEOUT | ldap.CONNECT_ERROR | ldap.UNAVAILABLE
    ):
        request.opvideo_directory_error = True
    logger.error("directory error %s: %s", context, exception.__class__.__name__)


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address; X-Forwarded-For only as far as DJANGO_PROXY_COUNT trusts it."""
    if settings.PROXY_COUNT:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= settings.PROXY_COUNT:
            return forwarded[-settings.PROXY_COUNT]
    return request.META.get("REMOTE_ADDR") or None


@dataclass(frozen=True)
class TokenCheck:
    """What ``Authorization: Token <key>`` came to: the user, or a refusal to give as the
    401's message (with the token, when the key is a known one, for the audit)."""

    user: Any = None
    error: str = ""
    token: ApiToken | None = None


def api_token_check(request: HttpRequest) -> TokenCheck | None:
    """The user behind ``Authorization: Token <key>``, or why not; None without a token."""
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "token" or not key.strip():
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key.strip()))
        .first()
    )
    if token is None:
        logger.warning("API request with an unknown token from %s", client_ip(request))
        return TokenCheck(error="invalid token")
    now = timezone.now()
    if token.revoked:
        return TokenCheck(error="token revoked", token=token)
    if token.is_expired(now):
        return TokenCheck(
            error=f"token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; ask for a new one",
            token=token,
        )
    if not token.user.is_active:
        return TokenCheck(error="the token's user is deactivated", token=token)
    # "Last used" is for an admin deciding whether a token is still needed: to the minute is
    # enough, and an integration polling the API then writes once a minute, not per request.
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return TokenCheck(user=token.user, token=token)


def user_may_hold(user) -> bool:
    if not user.is_authenticated:
        return False
    return (
        user.is_superuser
        or user.has_perm("storage.manage_legal_hold")
        or user.groups.filter(name=settings.OPVIDEO_HOLD_GROUP).exists()
    )
