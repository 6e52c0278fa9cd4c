"""API tokens as an attacker with a little admin access would try them (issue 13, finding 4):
a token for someone else, a forged form, an expired key, the key in a cookie."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from search.admin import ISSUED_KEY_SESSION
from search.models import AccessEvent, ApiToken
from search.services import api_token_issue

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:search_apitoken_add")
LIST_URL = reverse("admin:search_apitoken_changelist")


@pytest.fixture
def boss():
    return User.objects.create_superuser("boss", "boss@example.ru", "Boss-pass-1")


@pytest.fixture
def mallory(client):
    """Staff with only the permission to add API tokens."""
    user = User.objects.create_user("mallory", password="Mallory-pass-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="add_apitoken"))
    client.force_login(user)
    return user


def api_me(client, key):
    return client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {key}")


def test_staff_cannot_issue_a_token_for_a_superuser(client, mallory, boss):
    form = client.get(ADD_URL)
    assert form.status_code == 200
    options = re.findall(r'<option value="(\d+)"', form.content.decode())
    assert options == [str(mallory.pk)]  # nobody else is offered

    forged = client.post(ADD_URL, {"user": boss.pk, "label": "crm"})
    assert forged.status_code == 200  # the form again, with its error
    assert forged.context["adminform"].form.errors["user"]
    assert not ApiToken.objects.exists()
    assert not AccessEvent.objects.exists()
    with pytest.raises(PermissionDenied):
        api_token_issue(user=boss, label="crm", issued_by=mallory)
    assert not ApiToken.objects.exists()


def test_staff_issues_a_token_for_themselves_and_the_audit_names_them(client, mallory):
    response = client.post(ADD_URL, {"user": mallory.pk, "label": "crm"})
    token = ApiToken.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:search_apitoken_issued", args=[token.pk])
    assert (token.user, token.issued_by) == (mallory, mallory)
    # Only the permission to add, yet the key page is theirs to see.
    shown = client.get(response["Location"])
    assert shown.status_code == 200 and shown.context["key"]
    issued = AccessEvent.objects.get(action=AccessEvent.Action.TOKEN_ISSUE)
    assert issued.username == "mallory" and "mallory" in issued.detail


def test_superuser_issues_for_another_user_and_both_are_named(client, boss):
    operator = User.objects.create_user("operator", password="Operator-pass-1")
    client.force_login(boss)
    client.post(ADD_URL, {"user": operator.pk, "label": "crm"})
    token = ApiToken.objects.get()
    assert (token.user, token.issued_by) == (operator, boss)
    key = client.get(reverse("admin:search_apitoken_issued", args=[token.pk])).context["key"]
    issued = AccessEvent.objects.get(action=AccessEvent.Action.TOKEN_ISSUE)
    assert issued.username == "boss" and "operator" in issued.detail
    client.logout()
    assert api_me(client, key).json() == {"username": "operator"}


def test_the_key_is_shown_once_on_its_page_and_never_in_a_cookie(client, boss):
    client.force_login(boss)
    created = client.post(ADD_URL, {"user": boss.pk, "label": "crm"})
    token = ApiToken.objects.get()
    page = client.get(created["Location"])
    key = page.context["key"]
    assert key and ApiToken.hash_key(key) == token.key_hash
    html = page.content.decode()
    assert key in html
    assert "показан только сейчас" in html or "только в этот раз" in html
    assert "no-store" in page["Cache-Control"]

    # Not in any cookie the browser was sent, nor left in the session or its messages.
    for response in (created, page):
        for morsel in response.cookies.values():
            assert key not in morsel.value and token.prefix not in morsel.value
    assert all(key not in m.value for m in client.cookies.values())
    session = client.session
    assert ISSUED_KEY_SESSION not in session
    assert key not in str(dict(session.items()))

    again = client.get(created["Location"])
    assert again.status_code == 200
    assert key not in again.content.decode()
    assert "уже был показан" in again.content.decode()
    assert api_me(client.__class__(), key).json() == {"username": "boss"}


def test_the_issued_page_of_anothers_token_is_refused(client, mallory, boss):
    mallory.user_permissions.add(Permission.objects.get(codename="view_apitoken"))
    token, _key = api_token_issue(user=boss, label="crm")
    page = client.get(reverse("admin:search_apitoken_issued", args=[token.pk]))
    assert page.status_code in (302, 403, 404)
    assert client.get(LIST_URL).context["cl"].result_count == 0  # only their own tokens


def test_expired_token_is_refused_with_a_reason_and_audited(client, settings):
    settings.OPVIDEO_API_TOKEN_DAYS = 7
    owner = User.objects.create_user("operator", password="Operator-pass-1")
    token, key = api_token_issue(user=owner, label="crm")
    lifetime = token.expires_at - timezone.now()
    assert timedelta(days=6, hours=23) < lifetime <= timedelta(days=7)
    assert api_me(client, key).status_code == 200

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    for response in (
        api_me(client, key),
        client.get("/api/videos/", {"session": "x"}, HTTP_AUTHORIZATION=f"Token {key}"),
        client.get("/videos/1/download/", HTTP_AUTHORIZATION=f"Token {key}"),
    ):
        assert response.status_code == 401
        assert "expired" in response.json()["error"]
    refused = AccessEvent.objects.filter(action=AccessEvent.Action.TOKEN_REFUSED)
    assert refused.count() == 3
    event = refused.first()
    assert (event.username, event.via_api) == ("operator", True)
    assert token.prefix in event.detail and "expired" in event.detail
    assert not AccessEvent.objects.filter(action__in=["search", "download"]).exists()


def test_revoked_and_unknown_keys(client):
    owner = User.objects.create_user("operator", password="Operator-pass-1")
    token, key = api_token_issue(user=owner, label="crm")
    ApiToken.objects.filter(pk=token.pk).update(revoked=True)
    assert api_me(client, key).json() == {"error": "token revoked"}
    assert api_me(client, "nope").json() == {"error": "invalid token"}
    # Only the known key is audited: an unknown one names nobody.
    assert AccessEvent.objects.filter(action="token_refused").count() == 1


def test_admin_shows_expiry_and_issuer_in_russian_and_revoking_is_for_good(client, boss):
    client.force_login(boss)
    token, _key = api_token_issue(user=boss, label="crm", issued_by=boss)
    add = client.get(ADD_URL).content.decode()
    assert "Добавить API-токен" in add
    listing = client.get(LIST_URL).content.decode()
    assert "Действует до" in listing and "Выдал" in listing
    assert "Выберите API-токен для изменения" in listing
    change_url = reverse("admin:search_apitoken_change", args=[token.pk])
    change = client.get(change_url).content.decode()
    assert "Действует до" in change
    assert f"{timezone.localtime(token.expires_at):%Y}" in change

    client.post(LIST_URL, {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked
    client.post(change_url, {"label": "crm", "revoked": ""})
    token.refresh_from_db()
    assert token.revoked  # a revoked token is not turned back on


def test_no_token_for_an_inactive_user(client, boss):
    client.force_login(boss)
    gone = User.objects.create_user("gone", password="Gone-pass-1", is_active=False)
    response = client.post(ADD_URL, {"user": gone.pk, "label": "crm"})
    assert response.status_code == 200
    assert not ApiToken.objects.exists()
