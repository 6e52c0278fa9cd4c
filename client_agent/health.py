"""Each workstation's health, in three states, for the dashboard, the metrics and the list.

- ``quiet``: no heartbeat for ``quiet_after`` (off, broken, or cut off from the database);
- ``failing``: it reports, but has not delivered for ``quiet_after`` (or never), or keeps
  recordings that collide with other content on storage: its recordings exist nowhere else;
- ``ok``: the rest.

The admin's "needs attention" is quiet or failing; its filter and column read ``with_health``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When
from django.utils import timezone

from .models import Workstation

OK, QUIET, FAILING = "ok", "quiet", "failing"
STATES = (OK, QUIET, FAILING)


def quiet_after() -> timedelta:
    return timedelta(hours=settings.OPVIDEO_WORKSTATION_QUIET_HOURS)


def health_q(state: str, *, now: datetime, after: timedelta) -> Q:
    """The rows in ``state``, as a filter (the admin's filter and the counts share it)."""
    since = now - after
    quiet = Q(last_seen__lt=since)
    failing = ~quiet & (
        Q(last_success__isnull=True) | Q(last_success__lt=since) | Q(collision_count__gt=0)
    )
    if state == QUIET:
        return quiet
    if state == FAILING:
        return failing
    if state == OK:
        return ~quiet & ~failing
    raise ValueError(state)


def with_health(
    queryset: QuerySet[Workstation] | None = None,
    *,
    now: datetime | None = None,
    after: timedelta | None = None,
) -> QuerySet[Workstation]:
    """``queryset`` (default all) annotated with ``health``, one of ``STATES``."""
    now = now or timezone.now()
    after = after or quiet_after()
    rows = Workstation.objects.all() if queryset is None else queryset
    return rows.annotate(
        health=Case(
            When(health_q(QUIET, now=now, after=after), then=Value(QUIET)),
            When(health_q(FAILING, now=now, after=after), then=Value(FAILING)),
            default=Value(OK),
            output_field=CharField(),
        )
    )


def health_counts(
    *, now: datetime | None = None, after: timedelta | None = None
) -> dict[int | None, dict[str, int]]:
    """{zone id: {state: workstations}} for every zone with workstations (None: those whose
    zone is gone), every state present (0 where none): one GROUP BY."""
    counts: dict[int | None, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATES, 0))
    rows = with_health(now=now, after=after).values("zone_id", "health").annotate(n=Count("pk"))
    for row in rows.order_by():
        counts[row["zone_id"]][row["health"]] = row["n"]
    return dict(counts)
