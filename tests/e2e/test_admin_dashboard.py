"""The admin home's dashboard in Chromium at a phone's, a tablet's and a desktop's width,
with the demo's figures (storage.demo, client_agent.demo) and a zone with no data yet:
nothing scrolls sideways, the plots fit their boxes, and a health count opens the list of
exactly those workstations. Screenshots in test-artifacts/admin-dashboard-*.png."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from client_agent.demo import demo_workstations_load
from storage.demo import demo_capacity_load
from tests.e2e.admin_pages import PASSWORD, admin_sign_in, at_each_width, page_fits
from tests.factories import make_zone
from tests.services.browser import chromium

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_dashboard_fits_and_its_counts_lead_to_the_workstations(live_server, settings):
    settings.OPVIDEO_WORKSTATION_QUIET_HOURS = 3
    get_user_model().objects.create_superuser("admin", "admin@example.ru", PASSWORD)
    demo = make_zone(name="demo", retention_days=90)
    make_zone(name="orel")  # no figures yet: the empty states
    now = timezone.now()
    demo_capacity_load(zone=demo, now=now)
    demo_workstations_load(zone=demo, now=now)
    url = live_server.url + reverse("admin:index")
    with chromium(locale="ru-RU", viewport={"width": 1366, "height": 900}) as browser:
        page = browser.new_page()
        admin_sign_in(page, base_url=live_server.url)
        for width in at_each_width(page, url=url):
            dash = page.locator("#dashboard")
            assert dash.locator("caption").first.inner_text().lower() == "площадки сегодня"
            # Above the app list.
            assert dash.bounding_box()["y"] < page.locator("#content-main").bounding_box()["y"]
            plots = page.locator("svg.dash-plot")
            assert plots.count() == 2  # demo's two; orel shows words instead
            for n in range(plots.count()):
                box = plots.nth(n).bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= width
                assert box["width"] >= 300  # legible: about its view box's size or more
            assert "Снимков диска ещё нет" in page.inner_text("#dashboard")
            page_fits(page, name="admin-dashboard", width=width)

        # The fallback table opens with the same figures.
        page.locator(".dash-table summary").first.click()
        assert page.locator(".dash-table table").first.is_visible()

        page.click("#dashboard a[data-state=failing].ws-failing")
        page.wait_for_load_state()
        assert page.locator("#result_list tbody tr").count() == 1
        assert "demo-op-301" in page.inner_text("#result_list")
        page.go_back()
        page.click("#dashboard a[data-state=quiet]")
        page.wait_for_load_state()
        hosts = page.locator("#result_list tbody th").all_inner_texts()
        assert sorted(hosts) == ["demo-op-201", "demo-op-202"]
