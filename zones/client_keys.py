"""A zone's client key: the Fernet key its workstations hold, and the ssh key sealed under it.

Workstations never hold the web's FIELD_ENCRYPTION_KEYS, which open every zone's secrets.
Each zone has a key of its own instead (``Zone.client_key``, stored under the web's keys),
which ``manage.py zone_client_key`` prints for that zone's db.conf (``OPVIDEO_ZONE_KEY``); the
zone's ssh key is kept a second time, sealed under it (``Zone.client_ssh_key``), and a
workstation's database login reads the sealed copy of its own zone only (the view
CLIENT_ZONE_KEY). A workstation of zone A thus can open nothing of zone B: it cannot read
B's sealed key, and could not unseal it if it could.

Used by the web (``zones.services`` seals) and by the workstation client (it unseals), so
nothing here touches the database or the settings.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken


class NotAClientKey(ValueError):
    """The value is not a Fernet key (32 url-safe base64-encoded bytes)."""


class SealDoesNotOpen(ValueError):
    """The sealed key was not sealed under this client key (or is damaged)."""


def client_key_generate() -> str:
    return Fernet.generate_key().decode("ascii")


def _fernet(client_key: str) -> Fernet:
    try:
        return Fernet(client_key.strip().encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise NotAClientKey(
            "not a zone client key (a Fernet key: 44 characters of url-safe base64)"
        ) from exc


def client_key_check(client_key: str) -> None:
    """NotAClientKey unless ``client_key`` is a well-formed key."""
    _fernet(client_key)


def seal(*, client_key: str, private_key: str) -> str:
    """``private_key`` encrypted under ``client_key`` ('' stays '': no key, nothing sealed)."""
    if not private_key:
        return ""
    return _fernet(client_key).encrypt(private_key.encode("utf-8")).decode("ascii")


def unseal(*, client_key: str, sealed: str) -> str:
    fernet = _fernet(client_key)
    try:
        return fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise SealDoesNotOpen("the sealed ssh key does not open with this client key") from exc


def seal_fits(*, client_key: str, sealed: str, private_key: str) -> bool:
    """Whether ``sealed`` opens with ``client_key`` to exactly ``private_key``."""
    if not private_key:
        return sealed == ""
    try:
        return unseal(client_key=client_key, sealed=sealed) == private_key
    except (NotAClientKey, SealDoesNotOpen):
        return False
