"""Errors in production (DEBUG off) are the site's own pages, in Russian, with a way back to
the search; never Django's bare English "Not Found". The embedded media view answers as the
zone's nginx does: plain text."""

from datetime import date

import pytest
from django.test import Client

from tests.factories import make_video, make_zone

pytestmark = pytest.mark.django_db

BACK = '<a class="button" href="/">Вернуться к поиску</a>'


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = "tests.search.error_urls"


def page(response) -> str:
    html = response.content.decode()
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert '<html lang="ru">' in html
    assert "Not Found" not in html and "Server Error" not in html
    return html


def test_a_missing_page_is_the_sites_404_signed_out(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert BACK in page(response)


@pytest.mark.parametrize("url", ["/no/such/page/", "/videos/987654321/", "/api/nothing/"])
def test_a_missing_page_or_recording_is_the_sites_404(client, operator, url):
    response = client.get(url)
    assert response.status_code == 404
    html = page(response)
    assert "<h1>Не найдено</h1>" in html  # noqa: RUF001
    assert "Такой страницы или записи нет" in html
    assert BACK in html
    assert "operator" in html  # the header as on every page


def test_a_deleted_recordings_download_says_when_it_was_deleted(client, operator):
    video = make_video(zone=make_zone(name="kursk"), delete_date=date(2026, 11, 20))
    response = client.get(f"/videos/{video.pk}/download/")
    assert response.status_code == 404
    html = page(response)
    assert "Эта запись удалена 20.11.2026 по истечении срока хранения." in html
    assert BACK in html


def test_refused_is_the_sites_403(client, operator):
    response = client.get("/test-refuse/")
    assert response.status_code == 403
    html = page(response)
    assert "нет доступа к этой странице" in html and BACK in html


def test_a_bug_is_the_sites_500_which_reads_nothing(operator):
    client = Client(raise_request_exception=False)
    client.force_login(operator)
    response = client.get("/test-fail/")
    assert response.status_code == 500
    html = page(response)
    assert "Что-то пошло не так" in html and BACK in html
    assert "operator" not in html  # rendered without the request: no user, no session


def test_english_error_pages_for_those_who_chose_english(client, operator):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/no/such/page/").content.decode()
    assert "There is no such page or recording" in html and "Back to the search" in html


def test_the_embedded_media_view_stays_plain_text_like_nginx(client, settings):
    settings.OPVIDEO_EMBEDDED_MEDIA = True
    zone = make_zone(name="kursk")
    for url in (f"/media/z/{zone.pk}/missing.txt", "/media/z/987654/a.mp4"):
        response = client.get(url)
        assert response.status_code == 404
        assert response["Content-Type"] == "text/plain"
        assert response.content == b"Not Found"


def test_a_form_from_an_out_of_date_page_is_the_sites_403_in_russian(operator):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(operator)
    video = make_video(zone=make_zone(name="kursk"))
    html = page(browser.post(f"/videos/{video.pk}/play/"))
    assert "устарела" in html and "Обновите страницу" in html
    assert 'href="/"' in html  # the way back to the search
