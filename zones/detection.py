"""Which zone a machine is in, found the way the old client found it: from DNS.

Every site's DNS has a record for the same short host name (``docker1``), and every
workstation resolves short names through its site's search domain, so ``docker1`` becomes
``docker1.<zone>.<domain>`` and the label after the host name is the zone. Nothing has to be
configured per site; an explicit setting overrides the lookup where DNS cannot do this.

The resolver is a parameter so the logic can be tested with any answer; the default asks
the system resolver first (it honours /etc/hosts, nsswitch and the search domains of
resolv.conf) and, when the canonical name it reports is not ``docker1.…`` (``docker1`` is a
CNAME to another host), asks DNS which search-domain name it actually answered for.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Iterator

from django.core.exceptions import ValidationError

from .validators import zone_name_validator

DEFAULT_ZONE_HOST = "docker1"
DNS_TIMEOUT_SECONDS = 5.0

Resolver = Callable[[str], Iterable[str]]


class ZoneNotDetected(Exception):
    """The zone could not be found from DNS; the message says what was seen."""


def system_resolver(host: str) -> Iterator[str]:
    """Fully qualified names ``host`` resolves as on this machine, best candidate first."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_CANONNAME)
    except OSError:
        infos = []
    for *_ignored, canonical, _address in infos[:1]:
        if canonical:
            yield canonical
    yield from _dns_search_names(host)


def _dns_search_names(host: str) -> Iterator[str]:
    """The search-domain name DNS answered for (its ``qname``), then where it pointed."""
    try:
        import dns.exception
        import dns.resolver
    except ImportError:  # pragma: no cover - dnspython is a runtime requirement
        return
    try:
        answer = dns.resolver.resolve(host, "A", search=True, lifetime=DNS_TIMEOUT_SECONDS)
    except (dns.exception.DNSException, OSError):
        return
    yield answer.qname.to_text(omit_final_dot=True)
    yield answer.canonical_name.to_text(omit_final_dot=True)


def zone_from_name(*, host: str, name: str) -> str | None:
    """The zone in ``name`` if it reads ``<host>.<zone>.<domain…>``, else None."""
    labels = name.rstrip(".").lower().split(".")
    if len(labels) < 3 or labels[0] != host.lower():
        return None
    zone = labels[1]
    try:
        zone_name_validator(zone)
    except ValidationError:
        return None
    return zone


def zone_detect(
    *, host: str = DEFAULT_ZONE_HOST, override: str = "", resolver: Resolver | None = None
) -> str:
    """The zone this machine is in: ``override`` if given, else read from ``host``'s DNS name.

    Raises ZoneNotDetected with the names that were seen, so the log line tells an admin
    whether DNS is down, the search domain is missing, or the override is needed.
    """
    if override:
        zone = override.strip().lower()
        try:
            zone_name_validator(zone)
        except ValidationError as exc:
            raise ZoneNotDetected(f"the configured zone {override!r} is not a zone name") from exc
        return zone
    seen: list[str] = []
    for name in (resolver or system_resolver)(host):
        zone = zone_from_name(host=host, name=name)
        if zone is not None:
            return zone
        seen.append(name)
    if not seen:
        raise ZoneNotDetected(
            f"{host} does not resolve (is DNS reachable, and does resolv.conf have the site's "
            "search domain?); set OPVIDEO_ZONE in db.conf to name the zone explicitly"
        )
    raise ZoneNotDetected(
        f"{host} resolves to {', '.join(dict.fromkeys(seen))}, not to {host}.<zone>.<domain>; "
        "set OPVIDEO_ZONE in db.conf to name the zone explicitly"
    )
