"""The workstations' heartbeat in the admin: quiet and failing ones first and filterable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from client_agent.models import Workstation
from client_agent.selectors import workstations_health
from tests.factories import make_zone

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:client_agent_workstation_changelist")


@pytest.fixture
def workstations(settings):
    settings.OPVIDEO_WORKSTATION_QUIET_HOURS = 3
    now = timezone.now()
    zone = make_zone(name="kursk")
    rows = {
        "fine": dict(
            last_seen=now - timedelta(minutes=20), last_success=now - timedelta(minutes=20)
        ),
        "silent": dict(last_seen=now - timedelta(hours=5), last_success=now - timedelta(hours=5)),
        "failing": dict(
            last_seen=now - timedelta(minutes=10),
            last_success=now - timedelta(days=2),
            last_error="3 recording(s) not sent, kept here: ssh: Connection refused",
        ),
        "never": dict(
            last_seen=now - timedelta(minutes=5), last_success=None, last_error="zone not found"
        ),
    }
    for host, values in rows.items():
        Workstation.objects.create(host=host, zone=zone, zone_name="kursk", **values)
    return now


def test_quiet_workstations_are_the_silent_and_the_failing(workstations):
    quiet = workstations_health(now=workstations, quiet_after=timedelta(hours=3)).filter(quiet=True)
    assert sorted(quiet.values_list("host", flat=True)) == ["failing", "never", "silent"]


def test_the_admin_lists_the_quiet_ones(admin_client, workstations):
    response = admin_client.get(LIST_URL, {"health": "quiet"})
    assert response.status_code == 200
    hosts = [w.host for w in response.context["cl"].result_list]
    assert sorted(hosts) == ["failing", "never", "silent"]
    assert "Connection refused" in response.content.decode()

    everything = admin_client.get(LIST_URL)
    hosts = [w.host for w in everything.context["cl"].result_list]
    assert hosts[0] == "silent"  # the longest silent first
    assert set(hosts) == {"fine", "silent", "failing", "never"}

    healthy = admin_client.get(LIST_URL, {"health": "ok"})
    assert [w.host for w in healthy.context["cl"].result_list] == ["fine"]


def test_heartbeats_are_read_only_but_a_retired_workstation_can_go(admin_client, workstations):
    row = Workstation.objects.get(host="silent")
    assert admin_client.get(reverse("admin:client_agent_workstation_add")).status_code == 403
    change = admin_client.post(
        reverse("admin:client_agent_workstation_change", args=[row.pk]), {"host": "renamed"}
    )
    assert change.status_code == 403
    admin_client.post(
        reverse("admin:client_agent_workstation_delete", args=[row.pk]), {"post": "yes"}
    )
    assert not Workstation.objects.filter(host="silent").exists()
