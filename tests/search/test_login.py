"""Signing in through a real slapd shaped like Active Directory, lockout, outages."""

import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from search.auth import user_may_hold
from tests.services.directory import PASSWORDS

pytestmark = pytest.mark.django_db


def login(client, username, password, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def signed_in_as(client) -> str | None:
    response = client.get("/")
    if response.status_code != 200:
        return None
    return response.context["user"].get_username()


def test_directory_user_signs_in_and_gets_names(client, directory):
    response = login(client, "operator1", PASSWORDS["operator1"])
    assert response.status_code == 302 and response["Location"] == "/"
    user = User.objects.get(username="operator1")
    assert (user.first_name, user.last_name) == ("Ольга", "Операторова")
    assert not user.is_staff and not user.is_superuser
    assert not user.has_usable_password()  # the password stays in the directory
    assert signed_in_as(client) == "operator1"


def test_user_name_is_case_insensitive_like_ad(client, directory):
    assert login(client, "qa1", PASSWORDS["qa1"]).status_code == 302


def test_wrong_password_is_refused(client, directory):
    response = login(client, "operator1", "wrong-password")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert signed_in_as(client) is None


def test_user_outside_the_search_group_is_refused(client, directory):
    response = login(client, "outsider", PASSWORDS["outsider"])
    assert response.status_code == 200
    assert signed_in_as(client) is None
    assert not User.objects.filter(username="outsider").exists()


def test_disabled_account_is_refused(client, directory):
    response = login(client, "disabled1", PASSWORDS["disabled1"])
    assert response.status_code == 200
    assert signed_in_as(client) is None


def test_admin_group_gives_staff_and_superuser(client, directory):
    login(client, "admin1", PASSWORDS["admin1"])
    user = User.objects.get(username="admin1")
    assert user.is_staff and user.is_superuser
    assert client.get("/admin/").status_code == 200


def test_qa_group_is_mirrored_and_may_hold(client, directory):
    login(client, "qa1", PASSWORDS["qa1"])
    qa = User.objects.get(username="qa1")
    assert set(qa.groups.values_list("name", flat=True)) == {"OPVideo Users", "opvideo-qa"}
    assert user_may_hold(qa)
    client.logout()
    login(client, "operator1", PASSWORDS["operator1"])
    assert not user_may_hold(User.objects.get(username="operator1"))


def test_lockout_by_user_name_and_cool_off(client, directory, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=3)
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert login(client, "operator1", "wrong").status_code == 200
    # The third failure reaches the limit; from then on even the right password is refused.
    assert login(client, "operator1", "wrong").status_code == 429
    locked = login(client, "operator1", PASSWORDS["operator1"])
    assert locked.status_code == 429
    assert "Слишком много неудачных попыток" in locked.content.decode()
    assert signed_in_as(client) is None
    # The same address, another user: a call-centre floor shares one address.
    assert login(client, "qa1", PASSWORDS["qa1"]).status_code == 302
    client.logout()
    time.sleep(3.2)
    assert login(client, "operator1", PASSWORDS["operator1"]).status_code == 302


def test_directory_stopped_gives_a_clear_message_and_local_admin_still_works(
    client, directory, ad_server
):
    User.objects.create_superuser("breakglass", password="Local-admin-pass-1")
    assert login(client, "operator1", PASSWORDS["operator1"]).status_code == 302
    client.logout()
    ad_server.terminate()  # the real slapd goes away mid-suite
    ad_server.wait()
    try:
        response = login(client, "operator1", PASSWORDS["operator1"])
        assert response.status_code == 200
        assert "не отвечает" in response.content.decode()  # "the directory does not answer"
        assert signed_in_as(client) is None
        assert login(client, "breakglass", "Local-admin-pass-1").status_code == 302
        assert signed_in_as(client) == "breakglass"
    finally:
        ad_server.resume()
    client.logout()
    assert login(client, "operator1", PASSWORDS["operator1"]).status_code == 302


def test_local_accounts_only_without_a_directory(client):
    User.objects.create_user("local", password="Local-pass-1")
    assert login(client, "local", "Local-pass-1").status_code == 302
    assert signed_in_as(client) == "local"
