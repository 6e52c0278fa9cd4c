"""Model fields: an encrypted text column and a binary-collated name column.

Encryption uses ``cryptography``'s MultiFernet with keys from ``FIELD_ENCRYPTION_KEYS``: the
first key encrypts, every key decrypts, so keys can be rotated without downtime
(``manage.py rotate_field_keys``).

Legacy rows written by the old system hold the private key in clear (an OpenSSH/PEM block).
Those are passed through as they are until the documented encryption step runs, so the old
workstation clients, which read the column directly, keep working during the roll-out.
Anything else that does not decrypt is an error: handing ciphertext back as if it were a key
would fail far away, in an ssh call on a thousand workstations.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

FERNET_PREFIX = "gAAAAA"  # every Fernet token (version byte 0x80) starts with this
PLAINTEXT_MARKER = "-----BEGIN "


class FieldDecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


@lru_cache(maxsize=8)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is empty: encrypted columns can be neither read nor written"
        )
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes)"
        ) from exc


def field_fernet() -> MultiFernet:
    """The MultiFernet for the keys configured now (settings can change in tests)."""
    return _fernet_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def is_legacy_plaintext(value: str) -> bool:
    return value.lstrip().startswith(PLAINTEXT_MARKER)


def encrypt_value(value: str) -> str:
    if value == "":
        return ""
    return field_fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_value(value: str, *, where: str = "") -> str:
    if value == "" or is_legacy_plaintext(value):
        return value
    try:
        return field_fernet().decrypt(value.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise FieldDecryptionError(
            f"cannot decrypt {where or 'an encrypted column'}: none of FIELD_ENCRYPTION_KEYS "
            "fits (wrong or missing key?)"
        ) from exc


class EncryptedTextField(models.TextField):
    """A TEXT column whose content is Fernet-encrypted at rest.

    Only equality with the empty string is meaningful in a query: the ciphertext is
    randomised, so nothing else can be looked up.
    """

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return decrypt_value(value, where=f"{self.model._meta.db_table}.{self.column}")

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return value
        return encrypt_value(value)


class BinaryCharField(models.CharField):
    """A CharField compared byte for byte (file names on Linux are case-sensitive).

    The collation is chosen per database engine here rather than through ``db_collation``,
    so the migrations stay the same for MariaDB and for the SQLite used by ``make run``.
    """

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        params["collation"] = "utf8mb4_bin" if connection.vendor == "mysql" else "BINARY"
        return params
