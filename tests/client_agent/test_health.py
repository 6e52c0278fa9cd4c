"""Each workstation's health in three states, and the counts per zone the dashboard and the
metrics read (client_agent.health)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from client_agent.health import FAILING, OK, QUIET, health_counts, with_health
from client_agent.models import Workstation
from tests.factories import make_zone

pytestmark = pytest.mark.django_db

AFTER = timedelta(hours=3)


@pytest.fixture
def fleet():
    now = timezone.now()
    kursk, orel = make_zone(name="kursk"), make_zone(name="orel")
    recent, long_ago = now - timedelta(minutes=20), now - timedelta(hours=5)
    rows = [
        ("fine", kursk, dict(last_seen=recent, last_success=recent)),
        # Silent wins over everything else: nothing is known of it since.
        ("silent", kursk, dict(last_seen=long_ago, last_success=None, collision_count=2)),
        ("failing", kursk, dict(last_seen=recent, last_success=now - timedelta(days=2))),
        ("never", orel, dict(last_seen=recent, last_success=None)),
        ("colliding", orel, dict(last_seen=recent, last_success=recent, collision_count=1)),
        ("fine-orel", orel, dict(last_seen=recent, last_success=recent)),
    ]
    for host, zone, values in rows:
        Workstation.objects.create(host=host, zone=zone, zone_name=zone.name, **values)
    return now, kursk, orel


def test_each_workstation_has_one_state(fleet):
    now, _, _ = fleet
    states = dict(with_health(now=now, after=AFTER).values_list("host", "health"))
    assert states == {
        "fine": OK,
        "silent": QUIET,
        "failing": FAILING,
        "never": FAILING,
        "colliding": FAILING,
        "fine-orel": OK,
    }


def test_the_counts_per_zone_come_from_one_query(fleet):
    now, kursk, orel = fleet
    with CaptureQueriesContext(connection) as queries:
        counts = health_counts(now=now, after=AFTER)
    assert len(queries) == 1
    assert counts == {
        kursk.pk: {OK: 1, QUIET: 1, FAILING: 1},
        orel.pk: {OK: 1, QUIET: 0, FAILING: 2},
    }


def test_the_threshold_moves_the_line(fleet):
    now, kursk, _ = fleet
    # Six hours of patience: the five-hour silence is no longer quiet; it never delivered
    # and keeps collisions, so it is failing.
    counts = health_counts(now=now, after=timedelta(hours=6))
    assert counts[kursk.pk] == {OK: 1, QUIET: 0, FAILING: 2}
