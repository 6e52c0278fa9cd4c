"""The API token admin pages issue 13 changed, in Chromium at a phone's, a tablet's and a
desktop's width: the list (issuer, expiry), the add form and the page that shows a new key
once. Russian wording, no horizontal scrolling. Screenshots in test-artifacts/."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from search.actors import Actor
from search.models import ApiToken
from search.services import api_token_issue
from tests.e2e.admin_pages import PASSWORD, WIDTHS, admin_sign_in, page_fits
from tests.services.browser import chromium

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_token_admin_pages_read_in_russian_and_fit(live_server):
    users = get_user_model().objects
    admin = users.create_superuser("admin", "admin@example.ru", PASSWORD)
    operator = users.create_user("operator-integration-crm-kursk", password="Operator-pass-1")
    api_token_issue(
        user=operator, label="CRM: выгрузка звонков для отдела качества", actor=Actor(user=admin)
    )
    old, _key = api_token_issue(user=operator, label="старый отчёт", actor=Actor(user=admin))
    ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=1))
    gone, _key = api_token_issue(user=admin, label="отозванный", actor=Actor(user=admin))
    ApiToken.objects.filter(pk=gone.pk).update(revoked=True)
    issued = []  # (width, the key page's address, the key shown), checked after the browser
    with chromium(locale="ru-RU", viewport={"width": 1366, "height": 900}) as browser:
        page = browser.new_page()
        admin_sign_in(page, base_url=live_server.url)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(live_server.url + reverse("admin:search_apitoken_changelist"))
            body = page.inner_text("body").lower()  # headers are shown in capitals
            assert "действует до" in body and "выдал" in body, width
            assert {"действует", "истёк", "отозван"} <= set(body.split()), width
            page_fits(page, name="admin-token-list", width=width)

            page.goto(live_server.url + reverse("admin:search_apitoken_add"))
            assert "добавить api-токен" in page.inner_text("body").lower()
            page_fits(page, name="admin-token-add", width=width)

            # Issued through the form, as an admin does; the key page follows the redirect.
            # The superuser's user field is the admin's autocomplete: pick as it would.
            page.evaluate(
                "pk => document.querySelector('select[name=user]')"
                ".add(new Option('admin', pk, true, true))",
                str(admin.pk),
            )
            page.fill("input[name=label]", f"Интеграция {width}")
            page.click("input[name=_save]")
            page.wait_for_load_state()
            key = page.inner_text("#api-token-key")
            issued.append((width, page.url, key))
            assert "показан только в этот раз" in page.inner_text("body")
            page_fits(page, name="admin-token-issued", width=width)
            assert all(key not in c["value"] for c in browser.cookies())

            page.reload()
            assert page.locator("#api-token-key").count() == 0
            assert "уже был показан" in page.inner_text("body")
            page_fits(page, name="admin-token-shown", width=width)

    # The database is read outside the browser's block: Playwright's loop forbids the ORM.
    for width, url, key in issued:
        token = ApiToken.objects.get(label=f"Интеграция {width}")
        assert url.endswith(reverse("admin:search_apitoken_issued", args=[token.pk]))
        assert ApiToken.hash_key(key) == token.key_hash
