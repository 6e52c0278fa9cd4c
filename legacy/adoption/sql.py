"""The cursor helpers every phase of the adoption uses.

SQL is assembled from quoted identifiers and the adoption's own constants; every value read
from the database goes as a query parameter.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper


def quote(connection: BaseDatabaseWrapper, name: str) -> str:
    return connection.ops.quote_name(name)


def fetch(connection: BaseDatabaseWrapper, sql: str, params: list | tuple | None = None) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def scalar(connection: BaseDatabaseWrapper, sql: str, params: list | tuple | None = None):
    rows = fetch(connection, sql, params)
    return rows[0][0] if rows else None


def execute(connection: BaseDatabaseWrapper, sql: str, params: list | tuple | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
