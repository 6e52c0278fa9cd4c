"""Every admin page fits a phone's and a tablet's width: nothing scrolls the page sideways.
(A changelist's table may scroll inside its own box, as Django's admin does: the page around
it must not.) The pages are the Russian walk's: every section, and for each model its list
with rows, add form, a row's page, its delete confirmation and its history. The desktop's
width is checked by that walk itself (test_admin_russian), which reads each page at 1366.
"""

import pytest
from django.contrib.auth import get_user_model

from tests.e2e.admin_pages import ARTIFACTS, OVERFLOW, PASSWORD, admin_sign_in
from tests.e2e.test_admin_russian import _fill_every_model, _pages
from tests.services.browser import chromium

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

_WIDEST = (
    "() => [...document.querySelectorAll('body *')]"
    ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
    ".slice(-2).map(e => e.tagName + '.' + e.className + ' ' + (e.name || ''))"
)


def test_every_admin_page_fits_each_width(live_server):
    superuser = get_user_model().objects.create_superuser("admin", "admin@example.ru", PASSWORD)
    _fill_every_model(superuser)
    pages = _pages(live_server.url)
    wide: dict[str, list] = {}
    with chromium(locale="ru-RU") as browser:
        page = browser.new_page()
        admin_sign_in(page, base_url=live_server.url)
        assert page.locator("#user-tools").count() == 1, "not signed in"
        for width in (390, 768):
            page.set_viewport_size({"width": width, "height": 900})
            for name, url in pages:
                response = page.goto(url)
                if response.status in (403, 404):  # a page the admin does not offer
                    continue
                assert response.status == 200, (name, response.status)
                overflow = page.evaluate(OVERFLOW)
                if overflow > 0:
                    wide[f"{name} at {width}"] = [overflow, page.evaluate(_WIDEST)]
                    ARTIFACTS.mkdir(exist_ok=True)
                    page.screenshot(path=str(ARTIFACTS / f"admin-wide-{name}-{width}.png"))
    assert wide == {}, "\n".join(f"{k}: {v}" for k, v in sorted(wide.items()))
