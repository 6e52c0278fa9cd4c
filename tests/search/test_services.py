"""The search app's services called with an explicit actor and no request, as a management
command or a Celery task calls them: the same audit rows as a page writes, in the same
transaction as the change they record."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import DataError

from search.actors import SYSTEM, Actor
from search.models import AccessEvent, ApiToken
from search.services import access_search_record, api_token_issue, legal_hold_change
from storage.models import Video
from tests.factories import make_video, make_zone

pytestmark = pytest.mark.django_db

# Longer than the audit's address column (39): MariaDB in strict mode refuses the row.
UNWRITABLE_ADDRESS = "2001:db8::" + "f" * 40


@pytest.fixture
def video():
    return make_video(zone=make_zone(name="kursk"))


@pytest.fixture
def qa():
    return User.objects.create_user("qa", password="pw-qa-1")


class HoldCommand(BaseCommand):
    """A command as an admin would write one: the actor is the account it runs for."""

    def add_arguments(self, parser):
        parser.add_argument("pk", type=int)
        parser.add_argument("username")
        parser.add_argument("reason")

    def handle(self, *, pk, username, reason, **options):
        legal_hold_change(
            actor=Actor(user=User.objects.get(username=username)),
            video=Video.objects.get(pk=pk),
            hold=True,
            reason=reason,
        )


def test_a_command_places_a_hold_and_the_audit_names_its_actor(video, qa):
    call_command(HoldCommand(), str(video.pk), "qa", "запрос суда")
    video.refresh_from_db()
    assert video.legal_hold and video.legal_hold_reason == "запрос суда"
    event = AccessEvent.objects.get()
    assert (event.action, event.user, event.username, event.video_id, event.detail) == (
        AccessEvent.Action.HOLD_PLACE,
        qa,
        "qa",
        video.pk,
        "запрос суда",
    )
    # No request: no address, no browser, not the API.
    assert (event.remote_addr, event.user_agent, event.via_api) == (None, "", False)


def test_a_hold_whose_audit_row_cannot_be_written_is_not_placed(video, qa):
    with pytest.raises(DataError):
        legal_hold_change(
            actor=Actor(user=qa, address=UNWRITABLE_ADDRESS), video=video, hold=True, reason="x"
        )
    video.refresh_from_db()
    assert not video.legal_hold and video.legal_hold_reason == ""
    assert not AccessEvent.objects.exists()


def test_a_search_recorded_outside_a_request_keeps_the_actors_address(video, qa):
    actor = Actor(user=qa, address="10.20.30.40", user_agent="crm-sync/2", via_api=True)
    access_search_record(
        actor=actor, query={"session": video.session_id}, result_count=1, linked=[video]
    )
    rows = list(
        AccessEvent.objects.order_by("id").values_list(
            "action", "username", "video_id", "remote_addr", "user_agent", "via_api"
        )
    )
    assert rows == [
        ("search", "qa", None, "10.20.30.40", "crm-sync/2", True),
        ("view", "qa", video.pk, "10.20.30.40", "crm-sync/2", True),
    ]


def test_a_token_issued_by_an_actor_is_audited_under_the_issuer_with_the_address(qa):
    boss = User.objects.create_superuser("boss", password="Boss-pass-1")
    token, _key = api_token_issue(
        user=qa, label="crm", actor=Actor(user=boss, address="10.0.0.7", user_agent="Firefox")
    )
    assert (token.user, token.issued_by) == (qa, boss)
    event = AccessEvent.objects.get(action=AccessEvent.Action.TOKEN_ISSUE)
    assert (event.username, event.remote_addr, event.user_agent) == ("boss", "10.0.0.7", "Firefox")
    assert "qa" in event.detail


def test_a_script_or_the_system_issues_only_as_the_owner(qa):
    for actor in (None, SYSTEM):
        token, _key = api_token_issue(user=qa, label="crm", actor=actor)
        assert token.issued_by == qa
    assert list(
        AccessEvent.objects.filter(action=AccessEvent.Action.TOKEN_ISSUE).values_list(
            "username", flat=True
        )
    ) == ["qa", "qa"]


def test_a_token_whose_issue_cannot_be_audited_is_not_issued(qa):
    with pytest.raises(DataError):
        api_token_issue(user=qa, label="crm", actor=Actor(user=qa, address=UNWRITABLE_ADDRESS))
    assert not ApiToken.objects.exists()
    assert not AccessEvent.objects.exists()
