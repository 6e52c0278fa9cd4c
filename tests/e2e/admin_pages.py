"""What every admin page test in Chromium does: sign in, and check that a page fits.

A page fits when nothing scrolls the page sideways and, inside the admin's fieldsets (which
clip rather than widen the page), nothing sticks out of its section. The screenshot is kept
in test-artifacts/ for a person to look at.
"""

from pathlib import Path

from django.urls import reverse

from tests.helpers import REPO

ARTIFACTS = REPO / "test-artifacts"
WIDTHS = (390, 768, 1366)
PASSWORD = "Admin-password-for-the-test-1"  # a throwaway local account

# How far the page scrolls sideways (0 or less: not at all).
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
_WIDER_THAN_WINDOW = (
    "() => [...document.querySelectorAll('body *')]"
    ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
    ".slice(-3).map(e => e.tagName + '.' + e.className)"
)
_CLIPPED_BY_FIELDSET = (
    "() => [...document.querySelectorAll('fieldset')].flatMap(f => {"
    " const edge = f.getBoundingClientRect().right;"
    " return [...f.querySelectorAll('*')]"
    "  .filter(e => e.getBoundingClientRect().right > edge + 1)"
    "  .map(e => e.tagName + '.' + e.className + ': ' + e.textContent.slice(0, 40)); })"
)


def admin_sign_in(page, *, base_url: str, username: str = "admin") -> None:
    page.goto(f"{base_url}{reverse('admin:login')}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state()


def page_fits(page, *, name: str, width: int, fieldsets: bool = False) -> Path:
    """Screenshot the page as test-artifacts/<name>-<width>.png and assert it fits."""
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"{name}-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    overflow = page.evaluate(OVERFLOW)
    assert overflow <= 0, (name, width, overflow, page.evaluate(_WIDER_THAN_WINDOW))
    if fieldsets:
        clipped = page.evaluate(_CLIPPED_BY_FIELDSET)
        assert clipped == [], (name, width, clipped)
    assert shot.stat().st_size > 5_000
    return shot


def at_each_width(page, *, url: str):
    """Open ``url`` at each of WIDTHS in turn, yielding the width (the page is loaded)."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        yield width
