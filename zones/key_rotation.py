"""Rotating the field encryption keys: every encrypted column brought under the first of
``FIELD_ENCRYPTION_KEYS`` (``manage.py rotate_field_keys``), all or nothing."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router, transaction

from .fields import EncryptedTextField, encrypt_value, field_fernet, is_legacy_plaintext


class FieldKeyRotationError(Exception):
    """Rotation was refused; nothing was changed."""


@dataclass
class ColumnRotation:
    table: str
    column: str
    current: int = 0  # already encrypted under the first key: left as they are
    rotated: int = 0  # encrypted under an older key: re-encrypted under the first
    encrypted: int = 0  # legacy plaintext: encrypted for the first time

    @property
    def changed(self) -> int:
        return self.rotated + self.encrypted


@dataclass
class KeyRotationSummary:
    dry_run: bool
    columns: list[ColumnRotation] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(c.changed for c in self.columns)

    def lines(self) -> list[str]:
        verb = "would change" if self.dry_run else "changed"
        out = [
            f"{c.table}.{c.column}: {c.rotated} re-encrypted, {c.encrypted} plaintext "
            f"encrypted, {c.current} already current"
            for c in self.columns
        ]
        out.append(f"{verb} {self.changed} value(s) in {len(self.columns)} column(s)")
        return out


def field_keys_rotate(*, dry_run: bool = False) -> KeyRotationSummary:
    """Bring every encrypted column under the first of ``FIELD_ENCRYPTION_KEYS``.

    Run after putting a new key first in the list (and keeping the old ones after it);
    once it succeeds the old keys can be dropped. It is also the step that encrypts the
    plaintext keys the old system left in ``CONFIG.RSA_KEY``.

    Raw column values are read and written with a plain cursor: the ORM would decrypt on
    read and could not tell "already current" from "needs rotation". All values are checked
    before anything is written, under row locks, in one transaction: one value that no key
    decrypts aborts the whole run, because dropping the old key afterwards would lose it.
    """
    keys = list(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: there is no key to rotate to")
    field_fernet()  # validates every configured key, with its own clear message
    primary = Fernet(keys[0].encode())
    summary = KeyRotationSummary(dry_run=dry_run)
    columns = _encrypted_columns()
    with ExitStack() as stack:
        for alias in sorted({alias for alias, _t, _p, _c in columns}):
            stack.enter_context(transaction.atomic(using=alias))
        writes: list[tuple[str, str, str, str, list[tuple[str, Any]]]] = []
        failures: list[str] = []
        for alias, table, pk_column, column in columns:
            report = ColumnRotation(table=table, column=column)
            summary.columns.append(report)
            updates: list[tuple[str, Any]] = []
            for pk, value in _locked_values(alias=alias, table=table, pk=pk_column, col=column):
                new = _rotated_value(value=value, primary=primary, report=report)
                if new is None:
                    failures.append(f"{table}.{column} {pk_column}={pk}")
                elif new != value:
                    updates.append((new, pk))
            writes.append((alias, table, pk_column, column, updates))
        if failures:
            shown = ", ".join(failures[:10]) + (" …" if len(failures) > 10 else "")
            raise FieldKeyRotationError(
                f"{len(failures)} value(s) cannot be decrypted with any of "
                f"FIELD_ENCRYPTION_KEYS ({shown}); nothing was changed. Put the key they were "
                "encrypted with back into FIELD_ENCRYPTION_KEYS and run again."
            )
        if not dry_run:
            for alias, table, pk_column, column, updates in writes:
                if updates:
                    _write_values(
                        alias=alias, table=table, pk=pk_column, col=column, updates=updates
                    )
    return summary


# --- internals ------------------------------------------------------------------------------


def _encrypted_columns() -> list[tuple[str, str, str, str]]:
    """(db alias, table, pk column, column) of every EncryptedTextField, each column once."""
    seen: set[tuple[str, str, str]] = set()
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy:
            continue
        alias = router.db_for_write(model)
        for model_field in meta.concrete_fields:
            if isinstance(model_field, EncryptedTextField):
                key = (alias, meta.db_table, model_field.column)
                if key not in seen:
                    seen.add(key)
                    found.append((alias, meta.db_table, meta.pk.column, model_field.column))
    return found


def _locked_values(*, alias: str, table: str, pk: str, col: str) -> list[tuple[Any, str]]:
    connection = connections[alias]
    qn = connection.ops.quote_name
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {qn(pk)}, {qn(col)} FROM {qn(table)} "  # noqa: S608 - quoted identifiers
            f"WHERE {qn(col)} IS NOT NULL AND {qn(col)} <> '' ORDER BY {qn(pk)}{lock}"
        )
        return list(cursor.fetchall())


def _write_values(
    *, alias: str, table: str, pk: str, col: str, updates: list[tuple[str, Any]]
) -> None:
    qn = connections[alias].ops.quote_name
    with connections[alias].cursor() as cursor:
        cursor.executemany(
            f"UPDATE {qn(table)} SET {qn(col)} = %s WHERE {qn(pk)} = %s",  # noqa: S608
            updates,
        )


def _rotated_value(*, value: str, primary: Fernet, report: ColumnRotation) -> str | None:
    """The value to store under the first key, or None if no configured key opens it."""
    if is_legacy_plaintext(value):
        report.encrypted += 1
        return encrypt_value(value)
    try:
        token = value.encode("ascii")
    except UnicodeEncodeError:
        return None
    try:
        primary.decrypt(token)
    except InvalidToken:
        pass
    else:
        report.current += 1
        return value
    try:
        rotated = field_fernet().rotate(token)
    except InvalidToken:
        return None
    report.rotated += 1
    return rotated.decode("ascii")
