"""Finding recordings by a session id as people paste it: in any case, whole or by its
beginning, and always through the SESSIONID index (VIDEO_SESSIONID_IDX), never a scan.

Whether a comparison with SESSIONID ignores case is the column's collation's business, so
it is read from the database once per process rather than assumed:

- MariaDB/MySQL with a ``*_ci`` collation (what ``migrate`` and the legacy adoption create:
  the database's utf8mb4 default, ``utf8mb4_general_ci`` or ``utf8mb4_unicode_ci``): ``=``
  and ``LIKE 'prefix%'`` already ignore case, and both are index lookups (ref, range).
- SQLite (``make run``), or a case-sensitive collation (``*_bin``, ``*_cs``): ``=`` is byte
  for byte, and a ``LIKE`` that ignored case could not use the index. The id is then
  looked up as typed, lower-cased and upper-cased (Naumen writes its ids in one case, so
  one of them is the stored spelling), each an index lookup: ``IN (…)`` for a whole id,
  ``>= p AND < p'`` ranges for a beginning.
"""

from __future__ import annotations

from django.db import connections, router
from django.db.models import Q

from storage.models import Video

# Shorter beginnings match too much to be worth an index range, and are more often a typo
# than an intent: the form asks for more.
PREFIX_MIN_LENGTH = 8

_folds_case: dict[tuple[str, str], bool] = {}


def session_id_folds_case(*, using: str | None = None) -> bool:
    """Whether SESSIONID compares without regard to case in this database (its collation
    in information_schema), read once per process and database."""
    alias = using or router.db_for_read(Video)
    connection = connections[alias]
    key = (alias, str(connection.settings_dict["NAME"]))
    if key not in _folds_case:
        _folds_case[key] = _column_folds_case(connection=connection)
    return _folds_case[key]


def session_id_collation(*, connection) -> str | None:
    """SESSIONID's collation as MariaDB/MySQL reports it; None on other databases."""
    if connection.vendor != "mysql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COLLATION_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = %s",
            [Video._meta.db_table, Video._meta.get_field("session_id").column],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _column_folds_case(*, connection) -> bool:
    collation = session_id_collation(connection=connection)
    # MariaDB and MySQL name every case-insensitive collation *_ci (utf8mb4_general_ci,
    # utf8mb4_uca1400_ai_ci); SQLite's default BINARY and *_bin, *_cs do not ignore case.
    return bool(collation) and collation.lower().endswith("_ci")


def session_id_q(*, value: str, prefix: bool = False, folds_case: bool | None = None) -> Q:
    """The condition "SESSIONID is ``value``" (or "starts with ``value``"), ignoring case.

    ``folds_case`` says whether the column ignores case itself (default: as the database
    says, ``session_id_folds_case``).
    """
    if folds_case is None:
        folds_case = session_id_folds_case()
    if folds_case:
        # istartswith is LIKE 'value%' on MariaDB (its _ and % escaped): a range on the
        # index. Django's startswith would be LIKE BINARY, which compares case.
        return Q(session_id__istartswith=value) if prefix else Q(session_id=value)
    spellings = sorted({value, value.lower(), value.upper()})
    if not prefix:
        return Q(session_id__in=spellings)
    ranges = Q()
    for spelling in spellings:
        ranges |= Q(session_id__gte=spelling, session_id__lt=_successor(spelling))
    return ranges


def _successor(value: str) -> str:
    """The least string greater than every string that starts with ``value``, byte for
    byte: ``value`` with its last character raised by one (ids are ASCII)."""
    return value[:-1] + chr(ord(value[-1]) + 1)


def session_id_shorter_prefix(value: str) -> str | None:
    """A shorter beginning of ``value`` to suggest when nothing starts with it: up to its
    last separator (a Naumen id's last number is a counter within the second before it),
    if that is still long enough to search by."""
    for separator in ("_", ".", ":", "-"):
        head = value.rstrip(separator).rpartition(separator)[0]
        if len(head) >= PREFIX_MIN_LENGTH:
            return head
    return None
