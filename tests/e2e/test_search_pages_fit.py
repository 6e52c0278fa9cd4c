"""The search page with results (a two-part call among others), with nothing found, and the
404 page, in headless Chromium at a phone's, a tablet's and a desktop's width: nothing
scrolls sideways, the header keeps its parts apart, session ids wrap at most once, and the
results read in Russian. Screenshots in test-artifacts/search-*-<width>.png."""

from datetime import date, datetime

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from tests.e2e.admin_pages import WIDTHS, page_fits
from tests.factories import make_video, make_zone, session_id
from tests.services.browser import chromium

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "Operator-password-for-the-test-1"  # a throwaway local account
CALL = session_id(424_001)
PROJECT = "corebo00000000000ng9hgl5vhtinhmo"


def local(*args) -> datetime:
    return timezone.make_aware(datetime(*args))


@pytest.fixture
def results():
    kursk = make_zone(name="kursk", retention_days=90)
    demo = make_zone(name="demo", retention_days=30)
    day = date(2026, 11, 26)
    common = dict(project_id=PROJECT, recording_date=day, size=48_000_000)
    make_video(
        zone=kursk,
        session_id=CALL,
        file_name="op101/a.mp4",
        started_at=local(2026, 11, 26, 14, 2, 40),
        duration=433.4,
        workstation="op101",
        **common,
    )
    make_video(
        zone=kursk,
        session_id=CALL,
        file_name="op102/a.mp4",
        started_at=local(2026, 11, 26, 14, 9, 13),
        duration=3725.0,
        workstation="op102",
        operator="petrova.a",
        legal_hold=True,
        legal_hold_reason="claim",
        **common,
    )
    make_video(
        zone=demo,
        session_id=session_id(424_002),
        file_name="b.mp4",
        started_at=local(2026, 11, 26, 11, 30, 0),
        duration=95.0,
        workstation="op205",
        **common,
    )
    make_video(
        zone=kursk,
        session_id=session_id(424_003),
        file_name="c.mp4",
        delete_date=date(2026, 11, 29),
        integrity_checked_at=local(2026, 11, 28, 3, 0),
        integrity_ok=False,
        **common,
    )
    User.objects.create_user(
        "ivanova.qa", password=PASSWORD, first_name="Анна", last_name="Иванова", is_staff=True
    )


SESSION_LINES = (
    "() => [...document.querySelectorAll('.c-session a.id')]"
    ".map(a => new Set([...a.getClientRects()].map(r => Math.round(r.top))).size)"
)
HEADER_GAP = (
    "() => { const b = document.querySelector('.brand').getBoundingClientRect();"
    " const n = document.querySelector('.account .who').getBoundingClientRect();"
    " const a = document.querySelector('.account a[href=\"/admin/\"]');"
    " return !!a && (n.top >= b.bottom - 1 || n.left - b.right >= 8); }"
)
FORM_INSIDE = (
    "() => { const card = document.querySelector('.search-card').getBoundingClientRect();"
    " return [...document.querySelectorAll('.search-card input, .search-card select,"
    " .search-card button')].filter(e => e.type !== 'hidden')"
    ".filter(e => e.getBoundingClientRect().right > card.right - 1).map(e => e.name); }"
)


def test_results_empty_and_404_pages_fit_at_each_width(results, live_server, settings):
    # The project's URLs plus a view that fails on purpose: the 500 page as production shows it.
    settings.ROOT_URLCONF = "tests.search.error_urls"
    base = live_server.url
    with chromium(locale="ru-RU", viewport={"width": 1366, "height": 900}) as browser:
        page = browser.new_page()
        page.goto(f"{base}/login/")
        page.fill("input[name=username]", "ivanova.qa")
        page.fill("input[name=password]", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})

            page.goto(f"{base}/?project={PROJECT}&date_from=2026-11-01&date_to=2026-11-30")
            assert page.locator("table.results-table tbody tr").count() == 4
            assert page.locator("tbody.parts tr").count() == 2
            assert page.locator("tbody.parts .part").all_inner_texts() == ["1/2", "2/2"]
            text = page.inner_text("main")
            for said in ("26.11.2026 14:02:40", "1:02:05", "petrova.a", "kursk: 3 · demo: 1"):
                assert said in text, (width, said)
            page_fits(page, name="search-results", width=width)
            lines = page.evaluate(SESSION_LINES)
            assert len(lines) == 3 and max(lines) <= 2, (width, lines)
            assert page.evaluate(HEADER_GAP), width
            assert page.evaluate(FORM_INSIDE) == [], width

            page.goto(f"{base}/?session={CALL}9&date_from=2026-11-01&date_to=2026-11-30&zone=demo")
            assert "Ничего не найдено" in page.inner_text("main")
            assert page.locator(".widen a").count() == 3
            assert page.locator(".recent a").count() >= 1
            page_fits(page, name="search-empty", width=width)

            response = page.goto(f"{base}/videos/987654321/")
            assert response.status == 404
            assert "Вернуться к поиску" in page.inner_text("main")
            page_fits(page, name="search-404", width=width)

            response = page.goto(f"{base}/test-fail/")
            assert response.status == 500
            assert "Вернуться к поиску" in page.inner_text("main")
            page_fits(page, name="search-500", width=width)
