# ruff: noqa: RUF001 - Russian text, Cyrillic letters on purpose
"""The zone page's host key section (issue 13, finding 3) in Chromium at a phone's, a
tablet's and a desktop's width: fetching a real sshd's key shows its fingerprint to confirm,
confirming pins it, and the page then shows the pinned fingerprint. Russian wording, no
horizontal scrolling. Screenshots in test-artifacts/."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.e2e.admin_pages import PASSWORD, WIDTHS, admin_sign_in, page_fits
from tests.factories import make_zone
from tests.services.browser import chromium
from tests.services.sshd import confined_sshd
from tests.zones.conftest import keygen_fingerprint
from zones.models import Zone

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def fits(page, label: str, width: int) -> None:
    shot = page_fits(page, name=f"admin-zone-host-keys-{label}", width=width, fieldsets=True)
    # The section itself, at full size, for a person to read.
    section = page.locator("fieldset:has(input[name=host_key_action])")
    section.screenshot(path=str(shot.with_name(f"{shot.stem}-section.png")))


def test_fetch_confirm_and_the_pinned_fingerprint_read_in_russian_and_fit(live_server, tmp_path):
    get_user_model().objects.create_superuser("admin", "admin@example.ru", PASSWORD)
    with confined_sshd(workdir=tmp_path / "sshd") as server:
        _bits, fingerprint, _algorithm = keygen_fingerprint(server.workdir / "host_key.pub")
        zone = make_zone(name="kursk", server="127.0.0.1", ssh_port=server.port, host_keys="")
        url = live_server.url + reverse("admin:zones_zone_change", args=[zone.pk])
        with chromium(locale="ru-RU", viewport={"width": 1366, "height": 900}) as browser:
            page = browser.new_page()
            admin_sign_in(page, base_url=live_server.url)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(url)
                body = page.inner_text("body")
                assert "Ключи хоста сервера хранения" in body
                assert "Ключ хоста не закреплён" in body
                fits(page, "none", width)

                page.check("input[name=host_key_action][value=fetch]")
                page.click("input[name=_save]")
                page.wait_for_load_state()
                body = page.inner_text("body")
                assert fingerprint in body, width
                assert "предъявляет такие ключи хоста" in body
                assert "Отпечатки совпадают с отпечатками сервера" in body
                # Nothing is pinned yet (the ORM cannot be used beside Playwright's loop).
                assert "Ключ хоста не закреплён" in body
                fits(page, "confirm", width)

            page.check("input[name=host_keys_confirm]")
            page.click("input[name=_continue]")
            page.wait_for_load_state()
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(url)
                body = page.inner_text("body")
                assert "Закреплённые ключи хоста" in body
                assert f"ED25519 (256) {fingerprint}" in body
                fits(page, "pinned", width)
                assert "Ключ хоста не закреплён" not in body
    assert Zone.objects.get(pk=zone.pk).host_keys.split() == server.host_key.split()[:2]
