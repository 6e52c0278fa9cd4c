# ruff: noqa: RUF001 - Russian text, Cyrillic letters on purpose
"""The zone page's host key section (issue 13, finding 3) in Chromium at a phone's, a
tablet's and a desktop's width: fetching a real sshd's key shows its fingerprint to confirm,
confirming pins it, and the page then shows the pinned fingerprint. Russian wording, no
horizontal scrolling. Screenshots in test-artifacts/."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import make_zone
from tests.helpers import REPO
from tests.services.browser import chromium
from tests.services.sshd import confined_sshd
from tests.zones.conftest import keygen_fingerprint
from zones.models import Zone

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ARTIFACTS = REPO / "test-artifacts"
WIDTHS = (390, 768, 1366)
PASSWORD = "Admin-password-for-the-test-1"  # a throwaway local account


def fits(page, label: str, width: int) -> None:
    shot = ARTIFACTS / f"admin-zone-host-keys-{label}-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    wide = page.evaluate(
        "() => [...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
        ".slice(-3).map(e => e.tagName + '.' + e.className)"
    )
    assert overflow <= 0, (label, width, overflow, wide)
    # The admin's fieldsets clip what sticks out instead of widening the page: nothing may.
    clipped = page.evaluate(
        "() => [...document.querySelectorAll('fieldset')].flatMap(f => {"
        " const edge = f.getBoundingClientRect().right;"
        " return [...f.querySelectorAll('*')]"
        "  .filter(e => e.getBoundingClientRect().right > edge + 1)"
        "  .map(e => e.tagName + '.' + e.className + ': ' + e.textContent.slice(0, 40)); })"
    )
    assert clipped == [], (label, width, clipped)
    assert shot.stat().st_size > 5_000
    # The section itself, at full size, for a person to read.
    section = page.locator("fieldset:has(input[name=host_key_action])")
    section.screenshot(path=str(shot.with_name(f"{shot.stem}-section.png")))


def test_fetch_confirm_and_the_pinned_fingerprint_read_in_russian_and_fit(live_server, tmp_path):
    get_user_model().objects.create_superuser("admin", "admin@example.ru", PASSWORD)
    ARTIFACTS.mkdir(exist_ok=True)
    with confined_sshd(workdir=tmp_path / "sshd") as server:
        _bits, fingerprint, _algorithm = keygen_fingerprint(server.workdir / "host_key.pub")
        zone = make_zone(name="kursk", server="127.0.0.1", ssh_port=server.port, host_keys="")
        url = live_server.url + reverse("admin:zones_zone_change", args=[zone.pk])
        with chromium(locale="ru-RU", viewport={"width": 1366, "height": 900}) as browser:
            page = browser.new_page()
            page.goto(f"{live_server.url}{reverse('admin:login')}")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_load_state()
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
