"""The workstations' heartbeat in the admin: quiet and failing ones first and filterable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from client_agent.health import with_health
from client_agent.models import Workstation
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


def test_each_workstation_has_one_state(workstations):
    states = dict(
        with_health(now=workstations, after=timedelta(hours=3)).values_list("host", "health")
    )
    assert states == {"fine": "ok", "silent": "quiet", "failing": "failing", "never": "failing"}


def test_the_admin_lists_the_ones_that_need_attention(admin_client, workstations):
    response = admin_client.get(LIST_URL, {"health": "attention"})
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


@pytest.mark.parametrize(
    ("state", "hosts"),
    [("ok", ["fine"]), ("quiet", ["silent"]), ("failing", ["failing", "never"])],
)
def test_the_health_filter_takes_each_state(admin_client, workstations, state, hosts):
    """The values the dashboard's counts link to: each lists exactly that state's rows."""
    response = admin_client.get(LIST_URL, {"health": state})
    assert response.status_code == 200
    assert sorted(w.host for w in response.context["cl"].result_list) == hosts
    # The filter offers the four values, the chosen one selected.
    spec = response.context["cl"].filter_specs[0]
    assert [value for value, _ in spec.lookup_choices] == ["attention", "ok", "quiet", "failing"]
    assert spec.value() == state


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
