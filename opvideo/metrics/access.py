"""Who may scrape ``/metrics``: a bearer token, an address allow-list, or both.

Closed by default: with neither configured the endpoint does not exist. Each check that is
configured must pass. The address is the TCP peer (REMOTE_ADDR) and never X-Forwarded-For,
whatever DJANGO_PROXY_COUNT says: the metrics are scraped from gunicorn directly, and a
header is whatever the sender wants it to be.
"""

from __future__ import annotations

import hmac
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from django.conf import settings
from django.http import HttpRequest


class Access:
    CLOSED = "closed"  # nothing configured: the endpoint is not there
    REFUSED = "refused"
    ALLOWED = "allowed"


@lru_cache(maxsize=8)
def _networks(allow: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(net, strict=False) for net in allow)


def address_allowed(remote_addr: str | None, allow: tuple[str, ...]) -> bool:
    try:
        address = ip_address((remote_addr or "").strip())
    except ValueError:
        return False
    # gunicorn bound to [::] reports IPv4 peers as ::ffff:a.b.c.d.
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return any(address in net for net in _networks(allow) if net.version == address.version)


def token_matches(header: str, token: str) -> bool:
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        given = ""
    # Compared in constant time, and as bytes: compare_digest refuses non-ASCII str.
    return hmac.compare_digest(given.strip().encode(), token.encode())


def scrape_access(request: HttpRequest) -> str:
    token = settings.OPVIDEO_METRICS_TOKEN
    allow = tuple(settings.OPVIDEO_METRICS_ALLOW)
    if not token and not allow:
        return Access.CLOSED
    if token and not token_matches(request.META.get("HTTP_AUTHORIZATION", ""), token):
        return Access.REFUSED
    if allow and not address_allowed(request.META.get("REMOTE_ADDR"), allow):
        return Access.REFUSED
    return Access.ALLOWED
