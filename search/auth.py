"""Authentication glue: directory outages, client addresses, API tokens, and the actor a
request stands for."""

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from .actors import Actor
from .models import ApiToken
from .services import access_token_refused_record

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


def request_actor(request: HttpRequest, *, via_api: bool = False) -> Actor:
    """Who acts in ``request`` and from where, for the services' audit rows. A request an API
    token signed in (``token_or_session_required``) is always through the API."""
    user = request.user
    return Actor(
        user=user if user.is_authenticated else None,
        address=client_ip(request),
        user_agent=request.headers.get("User-Agent", "")[:255],
        via_api=via_api or getattr(request, "api_token", None) is not None,
    )


def token_or_session_required(view=None, *, redirect_browsers: bool = False):
    """A view for a signed-in session or an ``Authorization: Token <key>`` header.

    The token's user becomes ``request.user`` (its token ``request.api_token``) for this
    request only: no session is made. A refusal is a 401 that says why; a known key refused
    (expired, revoked, its user deactivated) is audited under its owner, since someone still
    holds it. ``redirect_browsers``: a request with no Authorization header at all is sent
    to the login page instead, as a browser following a link should be.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated:
                if redirect_browsers and "Authorization" not in request.headers:
                    return redirect_to_login(request.get_full_path())
                refusal = _token_sign_in(request)
                if refusal is not None:
                    return refusal
            return view(request, *args, **kwargs)

        return wrapped

    return decorator if view is None else decorator(view)


def _token_sign_in(request: HttpRequest) -> JsonResponse | None:
    """Make the API token's user the request's user, or the 401 that says why not."""
    check = api_token_check(request)
    if check is None:
        return JsonResponse({"error": "authentication required"}, status=401)
    if check.user is None:
        if check.token is not None:
            access_token_refused_record(
                actor=request_actor(request, via_api=True), token=check.token, reason=check.error
            )
        return JsonResponse({"error": check.error}, status=401)
    request.user = check.user
    request.api_token = check.token
    return None


def user_may_hold(user) -> bool:
    if not user.is_authenticated:
        return False
    return (
        user.is_superuser
        or user.has_perm("storage.manage_legal_hold")
        or user.groups.filter(name=settings.OPVIDEO_HOLD_GROUP).exists()
    )
