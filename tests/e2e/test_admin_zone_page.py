"""The zone page's setup box and the link secret's confirmation (issue 16, small things) in
Chromium at a phone's, a tablet's and a desktop's width: the authorized_keys line and the
bootstrap.sh command at the top, each copied by its button (the clipboard where the page may
use it, else selected for Ctrl+C); regenerating a link secret first shows what breaks.
Russian wording, no horizontal scrolling. Screenshots in test-artifacts/."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.e2e.admin_pages import ARTIFACTS, PASSWORD, admin_sign_in, at_each_width, page_fits
from tests.factories import make_zone
from tests.services.browser import chromium
from zones import selectors
from zones.models import Zone

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_zone_page_offers_line_and_command_to_copy(live_server):
    get_user_model().objects.create_superuser("admin", "admin@example.ru", PASSWORD)
    zone = make_zone(name="kursk")
    line = selectors.zone_authorized_keys_line(zone=zone)
    command = selectors.zone_bootstrap_command(zone=zone)
    url = live_server.url + reverse("admin:zones_zone_change", args=[zone.pk])
    with chromium(
        locale="ru-RU",
        viewport={"width": 1366, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    ) as browser:
        page = browser.new_page()
        admin_sign_in(page, base_url=live_server.url)
        for width in at_each_width(page, url=url):
            box = page.locator(".zone-setup")
            assert box.locator("h2").inner_text() == "Подготовка сервера хранения"
            assert page.inner_text("#zone-authorized-keys") == line
            assert page.inner_text("#zone-bootstrap-command") == command
            # The box is the first thing in the form, in view without scrolling.
            assert box.bounding_box()["y"] < page.locator("input[name=name]").bounding_box()["y"]
            assert box.bounding_box()["y"] < 900
            page_fits(page, name="admin-zone-setup", width=width, fieldsets=True)
            box.screenshot(path=str(ARTIFACTS / f"admin-zone-setup-box-{width}.png"))

        page.click("button[data-copy-target=zone-authorized-keys]")
        page.wait_for_function("() => document.querySelector('.zone-copy-status').textContent")
        assert page.locator(".zone-copy-status").nth(0).inner_text() == "Скопировано"
        assert page.evaluate("() => navigator.clipboard.readText()") == line

        # On plain http there is no clipboard API: the button selects the text instead.
        page.evaluate("() => Object.defineProperty(window, 'isSecureContext', {value: false})")
        page.click("button[data-copy-target=zone-bootstrap-command]")
        assert page.evaluate("() => window.getSelection().toString()") == command
        status = page.locator(".zone-copy-status").nth(1).inner_text()
        assert status == "Выделено: нажмите Ctrl+C, чтобы скопировать"


def test_regenerating_the_link_secret_asks_first(live_server):
    get_user_model().objects.create_superuser("admin", "admin@example.ru", PASSWORD)
    zone = make_zone(name="kursk")
    make_zone(name="orel")
    before = zone.link_secret
    url = live_server.url + reverse("admin:zones_zone_changelist")
    with chromium(locale="ru-RU", viewport={"width": 1366, "height": 900}) as browser:
        page = browser.new_page()
        admin_sign_in(page, base_url=live_server.url)
        for width in at_each_width(page, url=url):
            page.check(f"input[name=_selected_action][value='{zone.pk}']")
            page.select_option("select[name=action]", "regenerate_link_secret")
            page.click("button[name=index]")
            page.wait_for_load_state()
            body = page.inner_text("body")
            assert "Эта площадка получит новый секрет ссылок на видео" in body
            assert "Что перестанет работать" in body
            assert "render_nginx_conf --zone kursk" in body
            assert "orel" not in body
            page_fits(page, name="admin-zone-link-secret-confirm", width=width)

        page.click("input[value='Да, сгенерировать']")
        page.wait_for_load_state()
        assert "Секрет ссылок на видео" in page.inner_text("ul.messagelist")
    assert Zone.objects.get(pk=zone.pk).link_secret not in ("", before)
