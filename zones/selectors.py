"""Reads about zones: what may be shown or handed out about a zone's ssh key.

Nothing here returns the private key; the one consumer that needs it (the workstation
client) reads its own zone's sealed copy (``client_agent.selectors.zone_ssh_key``).
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import PROTECT, Count, QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import ssh_keys
from .models import Zone

# Columns a list page never needs; deferring them also keeps a list readable when
# FIELD_ENCRYPTION_KEYS is wrong, so an admin can still see and fix the zones.
SECRET_COLUMNS = ("ssh_private_key", "link_secret", "client_key", "client_ssh_key")


def zone_list(*, enabled: bool | None = None) -> QuerySet[Zone]:
    """Zones without their secrets loaded, optionally only the enabled (or disabled) ones."""
    qs = Zone.objects.defer(*SECRET_COLUMNS)
    if enabled is not None:
        qs = qs.filter(enabled=enabled)
    return qs


# Zones as the search pages use them (names, video server addresses, link secrets), kept in
# this process: (monotonic time they expire, zones by id, names sorted).
ZONES_CACHE_SECONDS = 60
_zones: tuple[float, dict[int, Zone], list[str]] = (0.0, {}, [])


def _zones_held(*, ids: Iterable[int] = ()) -> tuple[dict[int, Zone], list[str]]:
    """Every zone, by id, and its names sorted; covering ``ids``.

    The search page lists the zone names in its picker, and shows and signs links for
    recordings of a few zones; reading the zones for every page was a query and about a
    millisecond of ORM work each time. There are a few dozen zones and they change a few
    times a year, so they are kept for a minute, in this process only: once a link is
    signed, a row holds its decrypted link secret, which must not go to a shared cache. A
    zone saved or deleted through the ORM in this process is dropped at once; other
    processes see the change within the minute, which for a regenerated link secret is
    harmless: links are cut off by the zone's nginx getting the new secret (which takes
    longer), and a link signed with the old one meanwhile is only refused there. An id not
    held (a zone added meanwhile) reads them again at once.
    """
    global _zones
    expires, by_id, names = _zones
    if time.monotonic() >= expires or not set(ids) <= by_id.keys():
        # The secrets deferred: the keys are never needed here, and the link secrets
        # are read (zones_by_id) only when links are signed. Decrypting nothing up front
        # keeps the page usable, its zone picker included, when FIELD_ENCRYPTION_KEYS is
        # wrong; only signing then fails.
        by_id = {zone.pk: zone for zone in Zone.objects.defer(*SECRET_COLUMNS)}
        names = sorted(zone.name for zone in by_id.values())
        # One assignment: threads of a worker see the old or the new triple, never a mix.
        _zones = (time.monotonic() + ZONES_CACHE_SECONDS, by_id, names)
    return by_id, names


@receiver([post_save, post_delete], sender=Zone)
def _zone_changed(**kwargs) -> None:
    zones_forget()


def zones_forget() -> None:
    """Drop the zones held in this process: the next page reads them again."""
    global _zones
    _zones = (0.0, {}, [])


def zone_names() -> list[str]:
    """All zone names, sorted, for pickers on hot pages (held a minute, see _zones_held)."""
    return _zones_held()[1]


def zones_by_id(*, ids: Iterable[int], secrets: bool = True) -> dict[int, Zone]:
    """Every zone by id with its link secret, covering at least ``ids`` (held a minute, see
    _zones_held): for pages that show and sign links for many recordings. ``secrets=False``
    for a page that only shows them: it reads no secret (and so no query once held)."""
    by_id = _zones_held(ids=ids)[0]
    if secrets and any("link_secret" in zone.get_deferred_fields() for zone in by_id.values()):
        # Every held zone's secret in one query, rather than one per zone as each is first
        # used: the first page after a reload then costs one query more, whatever it shows.
        secrets = dict(Zone.objects.filter(pk__in=by_id).values_list("pk", "link_secret"))
        for pk, secret in secrets.items():
            by_id[pk].link_secret = secret
    return by_id


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


def zone_authorized_keys_line(
    *,
    zone: Zone,
    rsync_path: str = ssh_keys.RSYNC_PATH,
    config_path: str = ssh_keys.UPLOAD_CONFIG,
) -> str:
    """The line to install on the zone's storage server (see ``ssh_keys.authorized_keys_line``)."""
    return ssh_keys.authorized_keys_line(zone=zone, rsync_path=rsync_path, config_path=config_path)


def zone_bootstrap_command(*, zone: Zone, line: str | None = None) -> str:
    """The command that prepares the zone's storage server (docker/storage/bootstrap.sh).

    Built around the zone's own authorized_keys line, quoted for the shell, so an admin can
    paste it as it is: the line says PATH_DST and the upload module, the user is the zone's.
    ``line`` spares building the line twice when the caller already has it.
    """
    if line is None:
        line = zone_authorized_keys_line(zone=zone)
    return f"./bootstrap.sh --user {shlex.quote(zone.ssh_user)} --line {shlex.quote(line)}"


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
