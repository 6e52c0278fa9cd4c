"""Leaving the company (issue 13, finding 9), against the real slapd: whoever the directory
no longer lets in loses their session, their tokens and their account at the next sync;
an unreachable or misconfigured directory changes nothing."""

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from search.directory_sync import DirectoryUnavailable, SyncRefused, directory_users_sync
from search.models import AccessEvent, DirectoryAccount
from search.services import api_token_issue
from tests.services.directory import PASSWORDS

pytestmark = pytest.mark.django_db


@pytest.fixture
def ad(directory, ad_server):
    """The directory, with every change a test makes to it undone afterwards."""
    undo = []

    class Changes:
        server = ad_server

        def leave_group(self, account, group="OPVideo Users"):
            ad_server.group_member(group, account, member=False)
            undo.append(lambda: ad_server.group_member(group, account, member=True))

        def join_group(self, account, group="OPVideo Users"):
            ad_server.group_member(group, account, member=True)
            undo.append(lambda: ad_server.group_member(group, account, member=False))

        def disable(self, account):
            ad_server.account_control(account, 514)
            undo.append(lambda: ad_server.account_control(account, 512))

        def remove(self, account):
            ad_server.ldapdelete(ad_server.user_dn(account))
            undo.append(lambda: ad_server.ldapadd(ad_server.person_entry(account) + "\n"))

    yield Changes()
    for step in reversed(undo):
        step()


def signed_in(account: str) -> Client:
    client = Client()
    response = client.post("/login/", {"username": account, "password": PASSWORDS[account]})
    assert response.status_code == 302, account
    return client


def session_works(client: Client) -> bool:
    return client.get("/").status_code == 200


def api_status(key: str) -> tuple[int, dict]:
    response = Client().get("/api/me/", HTTP_AUTHORIZATION=f"Token {key}")
    return response.status_code, response.json()


def off_events(account: str):
    return AccessEvent.objects.filter(action=AccessEvent.Action.DIRECTORY_OFF, username=account)


def test_sign_in_marks_the_account_as_the_directorys(ad):
    signed_in("operator1")
    account = DirectoryAccount.objects.get(user__username="operator1")
    assert account.dn == ad.server.user_dn("operator1")
    User.objects.create_superuser("breakglass", password="Local-admin-pass-1")
    assert not DirectoryAccount.objects.filter(user__username="breakglass").exists()


def test_removed_from_the_group_loses_session_and_tokens_and_is_audited(ad):
    leaver, stayer = signed_in("operator1"), signed_in("qa1")
    user = User.objects.get(username="operator1")
    _token, key = api_token_issue(user=user, label="crm")
    qa = User.objects.get(username="qa1")
    assert session_works(leaver) and api_status(key)[0] == 200

    ad.leave_group("operator1")
    result = directory_users_sync()

    assert [name for name, _reason in result.deactivated] == ["operator1"]
    user.refresh_from_db()
    assert not user.is_active
    assert not session_works(leaver)  # the live session is gone
    assert api_status(key) == (401, {"error": "token revoked"})
    (event,) = off_events("operator1")
    assert "больше не входит в группу" in event.detail and "OPVideo Users" in event.detail
    assert "завершено сеансов: 1" in event.detail and "отозвано API-токенов: 1" in event.detail
    # The one still in the group is untouched.
    assert session_works(stayer)
    still = User.objects.get(username="qa1")
    assert still.is_active and still.password == qa.password
    assert not off_events("qa1").exists()


def test_disabled_in_ad_is_deactivated(ad):
    client = signed_in("operator1")
    _token, key = api_token_issue(user=User.objects.get(username="operator1"), label="crm")
    ad.disable("operator1")
    directory_users_sync()
    assert not User.objects.get(username="operator1").is_active
    assert not session_works(client)
    assert api_status(key)[0] == 401
    assert "отключён в каталоге" in off_events("operator1").get().detail


def test_removed_from_the_directory_is_deactivated(ad):
    client = signed_in("operator1")
    ad.remove("operator1")
    directory_users_sync()
    assert not User.objects.get(username="operator1").is_active
    assert not session_works(client)
    assert "удалён из каталога" in off_events("operator1").get().detail


def test_sessions_end_with_a_session_engine_that_cannot_be_listed(ad, settings):
    # Cache sessions cannot be searched by user; the password hash the session carries
    # changes at deactivation, so Django drops it all the same.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    client = signed_in("operator1")
    assert session_works(client)
    ad.leave_group("operator1")
    directory_users_sync()
    assert not session_works(client)


def test_a_user_back_in_the_group_signs_in_again_but_not_one_an_admin_deactivated(ad):
    signed_in("operator1")
    ad.leave_group("operator1")
    directory_users_sync()
    assert not User.objects.get(username="operator1").is_active
    refused = Client().post(
        "/login/", {"username": "operator1", "password": PASSWORDS["operator1"]}
    )
    assert refused.status_code == 200  # out of the group: the directory refuses

    ad.join_group("operator1")
    client = signed_in("operator1")
    assert session_works(client)
    user = User.objects.get(username="operator1")
    assert user.is_active and user.directory_account.deactivated_at is None

    # An admin's own decision is not overridden by the directory.
    signed_in("qa1")
    User.objects.filter(username="qa1").update(is_active=False)
    signed_in_qa = Client().post("/login/", {"username": "qa1", "password": PASSWORDS["qa1"]})
    assert signed_in_qa.status_code == 200
    assert not User.objects.get(username="qa1").is_active


def test_removed_from_the_admin_group_loses_staff_as_at_sign_in(ad):
    signed_in("admin1")
    assert User.objects.get(username="admin1").is_superuser
    ad.leave_group("admin1", group="OPVideo Admins")
    result = directory_users_sync()
    admin = User.objects.get(username="admin1")
    assert admin.is_active and not admin.is_staff and not admin.is_superuser
    assert result.updated == ["admin1"] and not result.deactivated


def test_directory_stopped_changes_nothing_and_fails(ad):
    client = signed_in("operator1")
    _token, key = api_token_issue(user=User.objects.get(username="operator1"), label="crm")
    ad.leave_group("operator1")  # would be deactivated, if the directory could be read
    ad.server.terminate()
    ad.server.wait()
    try:
        with pytest.raises(DirectoryUnavailable):
            directory_users_sync()
        with pytest.raises(CommandError, match="could not be read"):
            call_command("sync_directory_users")
    finally:
        ad.server.resume()
    assert User.objects.get(username="operator1").is_active
    assert session_works(client) and api_status(key)[0] == 200
    assert not off_events("operator1").exists()


@pytest.mark.parametrize(
    "setting, value",
    [
        ("AUTH_LDAP_BIND_PASSWORD", lambda server: "wrong-bind-password"),
        ("AUTH_LDAP_REQUIRE_GROUP", lambda server: server.group_dn("OPVideo Userz")),
    ],
    ids=["bind refused", "group mistyped"],
)
def test_bind_refused_or_group_missing_changes_nothing(ad, settings, setting, value):
    client = signed_in("operator1")
    setattr(settings, setting, value(ad.server))
    with pytest.raises(DirectoryUnavailable):
        directory_users_sync()
    assert User.objects.get(username="operator1").is_active
    assert session_works(client)


def test_an_implausible_share_of_departures_changes_nothing_unless_forced(ad, settings):
    settings.OPVIDEO_DIRECTORY_SYNC_MAX_SHARE = 0.2
    signed_in("operator1")
    ghosts = [User.objects.create_user(f"ghost{n}") for n in range(4)]
    DirectoryAccount.objects.bulk_create([DirectoryAccount(user=g) for g in ghosts])
    with pytest.raises(SyncRefused, match="4 of 5"):
        directory_users_sync()
    assert User.objects.filter(is_active=True).count() == 5
    call_command("sync_directory_users", "--force")
    assert list(User.objects.filter(is_active=True).values_list("username", flat=True)) == [
        "operator1"
    ]
    assert "не найден в каталоге" in off_events("ghost0").get().detail
