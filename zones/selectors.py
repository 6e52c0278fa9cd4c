"""Reads about zones: what may be shown or handed out about a zone's ssh key.

Nothing here returns the private key; the one consumer that needs it (the workstation
daemon) reads the model field itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import PROTECT, Count, QuerySet

from . import ssh_keys
from .models import Zone

# Columns a list page never needs; deferring them also keeps a list readable when
# FIELD_ENCRYPTION_KEYS is wrong, so an admin can still see and fix the zones.
SECRET_COLUMNS = ("ssh_private_key", "link_secret")


def zone_list(*, enabled: bool | None = None) -> QuerySet[Zone]:
    """Zones without their secrets loaded, optionally only the enabled (or disabled) ones."""
    qs = Zone.objects.defer(*SECRET_COLUMNS)
    if enabled is not None:
        qs = qs.filter(enabled=enabled)
    return qs


ZONE_NAMES_CACHE_SECONDS = 60


def zone_names() -> list[str]:
    """All zone names, sorted, for pickers on hot pages.

    Kept in the cache for a minute: zones change a few times a year, the search page is
    opened all day, and a new zone showing up in the list a minute late harms nobody.
    """
    return cache.get_or_set(
        "zones:names",
        lambda: list(Zone.objects.order_by("name").values_list("name", flat=True)),
        ZONE_NAMES_CACHE_SECONDS,
    )


def zone_key(*, zone: Zone) -> ssh_keys.SshKey:
    """The zone's parsed key (type, size, public part).

    Raises ``zones.fields.FieldDecryptionError`` if the stored value cannot be decrypted and
    ``ValidationError`` if it is not a usable key (a legacy row may hold anything).
    """
    return ssh_keys.key_load(private_key=zone.ssh_private_key)


def zone_public_key(*, zone: Zone) -> str:
    """The public key line, commented with the zone so a server admin can tell lines apart."""
    return zone_key(zone=zone).public_line(comment=ssh_keys.key_comment(zone=zone))


def zone_key_fingerprint(*, zone: Zone) -> str:
    """``SHA256:…`` as ``ssh-keygen -lf`` prints it, to compare with what a server has."""
    return zone_key(zone=zone).fingerprint


def zone_authorized_keys_line(*, zone: Zone, rrsync_path: str = ssh_keys.RRSYNC_PATH) -> str:
    """The line to install on the zone's storage server (see ``ssh_keys.authorized_keys_line``)."""
    return ssh_keys.authorized_keys_line(zone=zone, rrsync_path=rrsync_path)


@dataclass(frozen=True)
class ProtectedDependents:
    zone: Zone
    what: str  # the dependent model's verbose_name_plural
    count: int


def zones_protected_dependents(*, zones: Iterable[Zone]) -> list[ProtectedDependents]:
    """Rows elsewhere that keep these zones from being deleted (``on_delete=PROTECT``).

    Found through the model graph rather than by importing the apps that point here (zones
    knows no other app), and counted in the database: a zone can hold millions of
    recordings, which the admin's generic deletion preview would load one by one.
    """
    zones = list(zones)
    by_pk = {zone.pk: zone for zone in zones}
    found = []
    for relation in Zone._meta.related_objects:
        if relation.on_delete is not PROTECT:
            continue
        counts = (
            relation.related_model._base_manager.filter(
                **{f"{relation.field.name}__in": list(by_pk)}
            )
            .values_list(relation.field.attname)
            .annotate(n=Count("pk"))
            .order_by()
        )
        what = str(relation.related_model._meta.verbose_name_plural)
        found += [ProtectedDependents(zone=by_pk[pk], what=what, count=n) for pk, n in counts]
    return sorted(found, key=lambda d: (d.zone.name, d.what))
