"""The audit's CSV export, opened in a spreadsheet, must not run what a requester typed."""

import csv
import io

import pytest

from search.models import AccessEvent

pytestmark = pytest.mark.django_db

HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
ORDINARY = ["Mozilla/5.0 (Windows NT 10.0) Firefox/128.0", "", "a=b+c-d@e", "'already quoted"]


def exported(admin_client) -> list[dict[str, str]]:
    response = admin_client.post(
        "/admin/search/accessevent/",
        {"action": "export_csv", "_selected_action": [e.pk for e in AccessEvent.objects.all()]},
    )
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_cells_a_spreadsheet_would_run_start_with_a_quote(admin_client):
    for n, agent in enumerate(HOSTILE + ORDINARY):
        AccessEvent.objects.create(
            username=f"user{n}", action="view", user_agent=agent, detail=agent
        )
    rows = {row["username"]: row for row in exported(admin_client)}
    for n, agent in enumerate(HOSTILE):
        row = rows[f"user{n}"]
        assert row["user_agent"] == "'" + agent
        assert row["detail"] == "'" + agent
    for n, agent in enumerate(ORDINARY, start=len(HOSTILE)):
        row = rows[f"user{n}"]
        assert row["user_agent"] == agent
        assert row["detail"] == agent
        assert row["action"] == "view"
        assert row["via_api"] == "False"
