"""Multi-row INSERT statements built from a model's metadata, for the two writes on hot
paths: a workstation registering its recordings (storage.registration) and the search
page's access audit (search.services).

Written out rather than compiled by the ORM each time: for those writes, building the query
and preparing every value field by field cost as much as the database's own work
(bench/registration.py, bench/search_scale.py). Only the model's own quoted table and
column names and placeholders go into the text; every value is a parameter. In this module
because both the web and the workstation client ship ``storage``.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Field, Model
from django.db.models.constants import OnConflict


def insert_sql(
    *,
    connection,
    model: type[Model],
    fields: Sequence[Field],
    rows: int,
    ignore_conflicts: bool = False,
) -> str:
    """``INSERT INTO <model's table> (<fields' columns>) VALUES (…), …`` for ``rows`` rows;
    with ``ignore_conflicts``, rows whose unique key exists are skipped, in the backend's
    words (``INSERT IGNORE``, ``OR IGNORE``, ``ON CONFLICT DO NOTHING``).

    One statement: in autocommit mode the database commits it on its own, all rows or none.
    """
    ops = connection.ops
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"{ops.insert_statement(on_conflict=on_conflict)} {ops.quote_name(model._meta.db_table)}"
        f" ({columns}) VALUES {', '.join([row] * rows)}"
    )
    suffix = ops.on_conflict_suffix_sql(fields, on_conflict, None, None)
    return f"{sql} {suffix}" if suffix else sql
