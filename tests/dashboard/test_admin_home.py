"""The admin home: the dashboard above the app list, its health counts linking to exactly
those workstations, and nothing of it for a user who may not view zones."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from tests.dashboard.site import site_build

pytestmark = pytest.mark.django_db

HOME = reverse("admin:index")


@pytest.fixture
def site(settings):
    settings.OPVIDEO_WORKSTATION_QUIET_HOURS = 3
    return site_build(now=timezone.now())


def health_links(html: str) -> dict[tuple[str, str], str]:
    """{(zone row's name, state): href} of the health counts."""
    out = {}
    table = html[html.index('<table class="dash-zones">') :]
    table = table[: table.index("</table>")]
    for row in re.findall(r"<tr>\s*<th scope=\"row\">.*?</tr>", table, re.S):
        zone = re.search(r'<th scope="row"><a [^>]*>([^<]+)</a>', row).group(1)
        for state, href in re.findall(r'data-state="(\w+)" href="([^"]+)"', row):
            out[zone, state] = unescape(href)
    return out


def test_the_dashboard_sits_above_the_app_list(admin_client, site):
    response = admin_client.get(HOME)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index('id="dashboard"') < html.index('id="content-main"')
    assert "app-zones" in html  # the app list is still there, below
    assert "Площадки сегодня" in html
    assert "Снимков диска ещё нет" in html  # orel has none
    assert "2 в порядке" in html and "1 молчит" in html and "1 сбоит" in html
    assert "12 записей на 2 рабочих местах" in html
    assert ">off<" not in html  # the disabled zone


@pytest.mark.parametrize(
    ("zone", "state", "hosts"),
    [
        ("kursk", "ok", ["k-ok-1", "k-ok-2"]),
        ("kursk", "quiet", ["k-quiet"]),
        ("kursk", "failing", ["k-failing"]),
        ("orel", "ok", ["o-ok"]),
        ("orel", "failing", []),
    ],
)
def test_each_count_links_to_exactly_those_workstations(admin_client, site, zone, state, hosts):
    links = health_links(admin_client.get(HOME).content.decode())
    listing = admin_client.get(links[zone, state])
    assert listing.status_code == 200
    assert sorted(w.host for w in listing.context["cl"].result_list) == hosts


def test_no_dashboard_for_a_user_who_may_not_view_zones(client, site):
    user = get_user_model().objects.create_user("clerk", "c@example.ru", "x" * 12)
    user.is_staff = True
    user.save()
    user.user_permissions.set(Permission.objects.filter(codename="view_workstation"))
    client.force_login(user)
    html = client.get(HOME).content.decode()
    assert 'id="dashboard"' not in html
    assert "kursk" not in html
    assert "app-client_agent" in html  # what the user may see is still listed


def test_the_forecasts_are_read_once_for_the_warning_and_the_dashboard(admin_client, site):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get(HOME).status_code == 200
    # latest_snapshots' one MAX(TAKEN_AT) per zone: once per page, not once for the banner
    # and again for the dashboard.
    newest = [q for q in queries if "MAX(`STORAGE_SNAPSHOT`.`TAKEN_AT`)" in q["sql"]]
    assert len(newest) == 1, [q["sql"][:120] for q in newest]
