# ruff: noqa: RUF001 - Russian text, Cyrillic letters on purpose
"""The access audit's export, as an admin sees it in Chromium at a phone's, a tablet's and a
desktop's width: the "Экспорт" link on the list keeps the list's filters, the form asks for
the days, and the download is the CSV. Screenshots in test-artifacts/."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from search.models import AccessEvent
from tests.e2e.admin_pages import PASSWORD, WIDTHS, admin_sign_in, page_fits
from tests.services.browser import chromium

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_audit_export_link_and_form_read_in_russian_and_fit(live_server):
    get_user_model().objects.create_superuser("admin", "admin@example.ru", PASSWORD)
    AccessEvent.objects.create(username="иванов", action="download", at=timezone.now())
    changelist = reverse("admin:search_accessevent_changelist") + "?action__exact=download"
    today = timezone.localdate().isoformat()
    with chromium(locale="ru-RU", viewport={"width": 1366, "height": 900}) as browser:
        page = browser.new_page()
        admin_sign_in(page, base_url=live_server.url)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(live_server.url + changelist)
            page_fits(page, name="admin-audit-list", width=width)
            page.click("a.export-link")
            page.wait_for_load_state()
            assert "action__exact=download" in page.url
            body = page.inner_text("body")
            assert "Выгрузка журнала доступа" in body
            assert "отобранные текущими фильтрами" in body
            page_fits(page, name="admin-audit-export", width=width, fieldsets=True)
        page.fill("input[name=date_from]", today)
        page.fill("input[name=date_to]", today)
        with page.expect_download() as download:
            page.click("input[type=submit]")
        path = download.value.path()
        text = path.read_text(encoding="utf-8")
        assert text.startswith("\ufeffвремя;")
        assert ";иванов;скачивание;" in text
