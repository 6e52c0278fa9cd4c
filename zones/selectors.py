"""Reads about zones: what may be shown or handed out about a zone's ssh key.

Nothing here returns the private key; the one consumer that needs it (the workstation
daemon) reads the model field itself.
"""

from __future__ import annotations

from django.db.models import QuerySet

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
