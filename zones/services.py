"""Writes to the CONFIG table: zones, their ssh keys, client keys and link secrets, and key
rotation.

Every entry point (admin, management commands, tests) goes through these functions, so the
rules live in one place: a zone always has a usable private key, a random link secret and a
client key with the ssh key sealed under it (``zones.client_keys``), a pasted key is checked
before it is stored, and nothing is half-written.

Zones from before client keys existed get theirs lazily: from ``manage.py zone_client_key``,
from ``manage.py rotate_field_keys`` (every zone at once) or when their ssh key changes.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

from . import client_keys, host_keys, ssh_keys
from .fields import FieldDecryptionError
from .models import Zone

# Set only through the dedicated arguments/services below, never as a plain field value;
# and never granted to a workstation's database login (client_agent.grants).
SECRET_FIELDS = frozenset({"ssh_private_key", "link_secret", "client_key", "client_ssh_key"})


class KeyAction(TextChoices):
    KEEP = "keep", _("Keep the current key")
    ED25519 = "ed25519", _("Generate a new ed25519 key (recommended)")
    RSA = "rsa", _("Generate a new RSA 4096 key (for old ssh servers)")
    PASTE = "paste", _("Paste a private key")


def link_secret_generate() -> str:
    """A fresh secret for signing video links (nginx ``secure_link``): 256 random bits."""
    return secrets.token_urlsafe(32)


def zone_create(
    *, key_type: ssh_keys.KeyType = "ed25519", private_key: str | None = None, **fields: Any
) -> Zone:
    """Create a zone with a working ssh key, a random link secret, and a client key with
    the ssh key sealed under it.

    A key is generated unless one is pasted (an existing storage server may already trust
    it). Generation happens before the transaction opens: an RSA 4096 key takes a moment
    and no row should be locked meanwhile.
    """
    action = KeyAction.PASTE if private_key else KeyAction.KEEP
    pasted = _zone_request_check(
        zone=None, key_action=action, private_key=private_key, fields=fields
    )
    key_text = pasted or ssh_keys.key_generate(key_type=key_type)
    client_key = client_keys.client_key_generate()
    zone = Zone(
        **fields,
        ssh_private_key=key_text,
        link_secret=link_secret_generate(),
        client_key=client_key,
        client_ssh_key=client_keys.seal(client_key=client_key, private_key=key_text),
    )
    with transaction.atomic():
        zone.full_clean()
        _save(zone=zone, force_insert=True)
        _purge_schedule_sync(zone=zone)
    return zone


def zone_update(
    *,
    zone: Zone,
    key_action: KeyAction | str = KeyAction.KEEP,
    private_key: str | None = None,
    **fields: Any,
) -> Zone:
    """Change a zone's settings and, if asked, its ssh key (sealed anew for the
    workstations under the zone's client key, which stays the same).

    Only the named fields (and the keys, when they change) are written, so a zone loaded
    with its secrets deferred can be edited even when its stored key cannot be decrypted, for
    example to replace a key whose encryption key was lost. A client key lost that way is
    replaced too, and the zone's workstations then need the new one (``zone_client_key``).
    """
    key_action = KeyAction(key_action)
    pasted = _zone_request_check(
        zone=zone, key_action=key_action, private_key=private_key, fields=fields
    )
    for name, value in fields.items():
        setattr(zone, name, value)
    update_fields = list(fields)
    if pasted is not None:
        zone.ssh_private_key = pasted
        update_fields.append("ssh_private_key")
    elif key_action in (KeyAction.ED25519, KeyAction.RSA):
        zone.ssh_private_key = ssh_keys.key_generate(key_type=str(key_action))
        update_fields.append("ssh_private_key")
    if "ssh_private_key" in update_fields:
        update_fields += _client_seal(zone=zone)
    if not update_fields:
        return zone
    with transaction.atomic():
        zone.full_clean(exclude=zone.get_deferred_fields())
        _save(zone=zone, update_fields=update_fields)
        _purge_schedule_sync(zone=zone)
    return zone


def zone_check(
    *,
    zone: Zone | None = None,
    key_action: KeyAction | str = KeyAction.KEEP,
    private_key: str | None = None,
    **fields: Any,
) -> None:
    """Raise the ValidationError ``zone_create`` (``zone`` None) or ``zone_update`` would
    raise for these arguments before saving, without generating a key or writing anything.

    The admin's form calls it from ``clean()``, so a refusal lands on its fields before the
    save. The model's own rules (``Zone.full_clean``) are not repeated: a ModelForm runs
    them itself, and both services run them again as they save.
    """
    _zone_request_check(
        zone=zone, key_action=KeyAction(key_action), private_key=private_key, fields=dict(fields)
    )


@dataclass(frozen=True)
class ClientKeyIssued:
    key: str
    created: bool  # the zone had none, or a new one was asked for: workstations need it
    resealed: bool  # the sealed ssh key was (re)written


def zone_client_key(*, zone: Zone, renew: bool = False) -> ClientKeyIssued:
    """The zone's client key for its workstations' db.conf, created (and the ssh key sealed
    under it) if the zone has none yet; with ``renew`` a new one, after which every
    workstation of the zone needs the new value before it can send anything.

    Also reseals when the sealed copy does not match the current ssh key (a key changed by
    a path that did not seal, e.g. written by hand into RSA_KEY).
    """
    with transaction.atomic():
        locked = Zone.objects.select_for_update().get(pk=zone.pk)
        changed = _client_seal_ensure(zone=locked, renew=renew)
        if changed:
            locked.save(update_fields=changed)
    return ClientKeyIssued(
        key=locked.client_key,
        created="client_key" in changed,
        resealed="client_ssh_key" in changed,
    )


@dataclass
class ClientKeySummary:
    dry_run: bool
    created: int = 0  # zones that had no client key
    resealed: int = 0  # zones whose sealed ssh key was missing or stale
    current: int = 0  # zones already in order
    without_ssh_key: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.created + self.resealed

    def lines(self) -> list[str]:
        verb = "would be" if self.dry_run else "were"
        out = [
            f"client keys: {self.created} zone(s) without one {verb} given one, "
            f"{self.resealed} sealed ssh key(s) {verb} renewed, {self.current} already current"
        ]
        if self.without_ssh_key:
            out.append(
                "zones without an ssh key (nothing to seal; generate one in the admin): "
                + ", ".join(self.without_ssh_key)
            )
        return out


def zones_client_keys_ensure(*, dry_run: bool = False) -> ClientKeySummary:
    """Give every zone a client key and a sealed ssh key matching its current ssh key.

    Part of ``rotate_field_keys``: after it, every zone's workstations can be given their
    key with ``zone_client_key``. Existing client keys are kept (workstations hold them).
    One transaction, rows locked; a value no FIELD_ENCRYPTION_KEYS key opens aborts it all.
    """
    summary = ClientKeySummary(dry_run=dry_run)
    with transaction.atomic():
        for zone in Zone.objects.select_for_update().order_by("pk"):
            changed = _client_seal_ensure(zone=zone, renew=False)
            if not zone.ssh_private_key:
                summary.without_ssh_key.append(zone.name)
            if "client_key" in changed:
                summary.created += 1
            elif "client_ssh_key" in changed:
                summary.resealed += 1
            else:
                summary.current += 1
            if changed and not dry_run:
                zone.save(update_fields=changed)
    return summary


def zone_delete(*, zone: Zone) -> None:
    """Delete a zone and its purge, integrity-check, media-read and capacity schedules together.

    Raises ``ProtectedError`` while the zone still has recordings: those are kept for their
    retention period, so such a zone is disabled rather than deleted.
    """
    with transaction.atomic():
        if apps.is_installed("django_celery_beat"):
            from .capacity_schedule import CAPACITY_SCHEDULE
            from .fixity_schedule import fixity_schedule_remove
            from .media_schedule import MEDIA_SCHEDULE
            from .purge_schedule import purge_schedule_remove

            purge_schedule_remove(zone_id=zone.pk)
            fixity_schedule_remove(zone_id=zone.pk)
            MEDIA_SCHEDULE.remove(zone_id=zone.pk)
            CAPACITY_SCHEDULE.remove(zone_id=zone.pk)
        zone.delete()


def zone_link_secret_regenerate(*, zone: Zone) -> None:
    """Give ``zone`` a new link secret: every video link signed with the old one stops working.

    The way to cut off links that leaked; the zone's nginx must get the new secret too.
    """
    zone.link_secret = link_secret_generate()
    with transaction.atomic():
        zone.save(update_fields=["link_secret"])


def zones_link_secret_regenerate(*, zones: Iterable[Zone]) -> int:
    """Regenerate several zones' secrets, all or none; returns how many were changed."""
    count = 0
    with transaction.atomic():
        for zone in zones:
            zone_link_secret_regenerate(zone=zone)
            count += 1
    return count


# --- internals ------------------------------------------------------------------------------


def _purge_schedule_sync(*, zone: Zone) -> None:
    """Keep the zone's daily purge entry, its integrity-check, media-read and capacity
    entries in step, in the caller's transaction.

    Only where this process schedules at all: the workstation client runs these models with
    settings that leave django-celery-beat out (and never edits a zone), so the scheduler is
    imported here, not at the top.
    """
    if apps.is_installed("django_celery_beat"):
        from .capacity_schedule import CAPACITY_SCHEDULE
        from .fixity_schedule import zone_fixity_schedule_sync
        from .media_schedule import MEDIA_SCHEDULE
        from .purge_schedule import zone_purge_schedule_sync

        zone_purge_schedule_sync(zone=zone)
        zone_fixity_schedule_sync(zone=zone)
        MEDIA_SCHEDULE.sync(zone=zone)
        CAPACITY_SCHEDULE.sync(zone=zone)


def _refuse_secret_fields(fields: dict[str, Any]) -> None:
    named = SECRET_FIELDS & fields.keys()
    if named:
        raise TypeError(
            f"{', '.join(sorted(named))} cannot be set as a plain field: use private_key= / "
            "key_action=, zone_link_secret_regenerate() or zone_client_key()"
        )


def _client_seal(*, zone: Zone) -> list[str]:
    """Seal the zone's (new) ssh key under its client key; the fields that changed.

    A client key that cannot be read (FIELD_ENCRYPTION_KEYS lost) is replaced: the one
    thing that matters then is that the new ssh key reaches the workstations at all.
    """
    try:
        client_key = zone.client_key
    except FieldDecryptionError:
        client_key = ""
    changed = ["client_ssh_key"]
    if not client_key:
        zone.client_key = client_key = client_keys.client_key_generate()
        changed.append("client_key")
    zone.client_ssh_key = client_keys.seal(client_key=client_key, private_key=zone.ssh_private_key)
    return changed


def _client_seal_ensure(*, zone: Zone, renew: bool) -> list[str]:
    """Bring ``zone``'s client key and sealed ssh key in order, in memory only; the fields
    that have to be saved."""
    changed: list[str] = []
    if renew or not zone.client_key:
        zone.client_key = client_keys.client_key_generate()
        changed.append("client_key")
    fits = client_keys.seal_fits(
        client_key=zone.client_key, sealed=zone.client_ssh_key, private_key=zone.ssh_private_key
    )
    if changed or not fits:
        zone.client_ssh_key = client_keys.seal(
            client_key=zone.client_key, private_key=zone.ssh_private_key
        )
        changed.append("client_ssh_key")
    return changed


def _zone_request_check(
    *, zone: Zone | None, key_action: KeyAction, private_key: str | None, fields: dict[str, Any]
) -> str | None:
    """The services' own rules for a request, checked before anything changes; normalises
    ``fields["host_keys"]`` in place. Returns the pasted key as it is stored, or None."""
    _refuse_secret_fields(fields)
    host_keys.zone_fields_host_keys_clean(fields)
    if private_key and key_action != KeyAction.PASTE:
        raise ValidationError(
            {"ssh_private_key": _("A pasted key is used only with 'Paste a private key'.")}
        )
    if zone is not None:
        # Before the instance changes: the pinned host keys are checked against the stored row.
        host_keys.zone_move_check(zone=zone, fields=fields)
    if key_action != KeyAction.PASTE:
        return None
    if not private_key:
        raise ValidationError({"ssh_private_key": ssh_keys.MSG_EMPTY})
    return _pasted_key(private_key)


def _pasted_key(private_key: str) -> str:
    try:
        return ssh_keys.key_load(private_key=private_key).private_openssh
    except ValidationError as exc:
        raise ValidationError({"ssh_private_key": exc.messages}) from exc


def _save(*, zone: Zone, **save_kwargs: Any) -> None:
    """Save, turning a unique-name race lost to another admin into a form-style error."""
    try:
        with transaction.atomic():
            zone.save(**save_kwargs)
    except IntegrityError as exc:
        if Zone.objects.filter(name=zone.name).exclude(pk=zone.pk).exists():
            raise ValidationError({"name": zone.unique_error_message(Zone, ("name",))}) from exc
        raise
