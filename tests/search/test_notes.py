"""Notes on a recording: the services (validation, rights, the audit row in the same
transaction) and the views the player and the page without script use, on MariaDB."""

import math
from datetime import date

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError
from django.test import Client

from search.actors import Actor
from search.models import AccessEvent
from search.moments import moment_format, moment_parse
from search.services import video_note_add, video_note_delete
from storage.models import VideoNote
from tests.factories import make_video, make_zone

pytestmark = pytest.mark.django_db

# Longer than the audit's address column (39): MariaDB in strict mode refuses the row.
UNWRITABLE_ADDRESS = "2001:db8::" + "f" * 40


@pytest.fixture
def video():
    return make_video(zone=make_zone(name="kursk"), duration=125.0)


@pytest.fixture
def qa():
    return User.objects.create_user("qa", password="pw-qa-1")


@pytest.fixture
def other():
    return User.objects.create_user("other", password="pw-other-1")


def nothing_written():
    return not VideoNote.objects.exists() and not AccessEvent.objects.exists()


# --- moments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("83", 83.0), ("83,5", 83.5), ("1:23", 83.0), ("1:02:03", 3723.0), (" 0:07.25 ", 7.25)],
)
def test_moments_read_as_people_write_them(text, seconds):
    assert moment_parse(text) == seconds


@pytest.mark.parametrize("text", ["", "-3", "1:75", "abc", "1:2:3:4", "nan", "9" * 400, "86401"])
def test_what_is_not_a_moment_reads_as_none(text):
    assert moment_parse(text) is None


def test_moments_are_written_as_the_player_clock_shows_them():
    assert [moment_format(s) for s in (0, 83.9, 600, 3723)] == ["0:00", "1:23", "10:00", "1:02:03"]


# --- services --------------------------------------------------------------------------------


def test_a_note_and_its_audit_row_are_written_together(video, qa):
    note = video_note_add(
        actor=Actor(user=qa, address="10.1.2.3"), video=video, at_seconds=83.25, text=" Грубит "
    )
    assert (note.text, note.at_seconds, note.author, note.author_name) == (
        "Грубит",
        83.25,
        qa,
        "qa",
    )
    event = AccessEvent.objects.get()
    assert (event.action, event.username, event.video_id, event.session_id) == (
        AccessEvent.Action.NOTE_ADD,
        "qa",
        video.pk,
        video.session_id,
    )
    assert event.detail.startswith("1:23 (83.2 s)")
    assert f"#{note.pk}: Грубит" in event.detail


def test_a_note_whose_audit_row_cannot_be_written_is_not_kept(video, qa):
    with pytest.raises(DataError):
        video_note_add(
            actor=Actor(user=qa, address=UNWRITABLE_ADDRESS), video=video, at_seconds=1, text="x"
        )
    assert nothing_written()


@pytest.mark.parametrize(
    ("at", "text", "field"),
    [
        (10, "   ", "text"),
        (10, "я" * 2001, "text"),
        (-1, "note", "at_seconds"),
        (math.nan, "note", "at_seconds"),
        (math.inf, "note", "at_seconds"),
        (127, "note", "at_seconds"),  # the recording is 125 s long
    ],
)
def test_bad_notes_are_refused_with_the_field_and_change_nothing(video, qa, at, text, field):
    with pytest.raises(ValidationError) as caught:
        video_note_add(actor=Actor(user=qa), video=video, at_seconds=at, text=text)
    assert field in caught.value.message_dict
    assert caught.value.message_dict[field][0]
    assert nothing_written()


def test_a_moment_just_past_the_end_is_the_end_and_2000_characters_are_fine(video, qa):
    note = video_note_add(actor=Actor(user=qa), video=video, at_seconds=125.6, text="я" * 2000)
    assert note.at_seconds == 125.0
    assert len(note.text) == 2000


def test_the_audit_keeps_a_deleted_notes_whole_text(video, qa):
    text = "Клиент назвал номер договора. " * 60  # 1,800 characters: past the detail column
    note = video_note_add(actor=Actor(user=qa), video=video, at_seconds=10, text=text)
    pk = note.pk
    video_note_delete(actor=Actor(user=qa), note=note)
    removed = AccessEvent.objects.get(action=AccessEvent.Action.NOTE_DELETE)
    assert removed.query == {"note": pk, "at": 10.0, "text": text.strip()}
    assert len(removed.detail) <= 255


def test_a_moment_link_past_any_recording_opens_the_page_at_its_start(client, video, qa):
    client.force_login(qa)
    response = client.get(f"/videos/{video.pk}/", {"t": "9" * 400})
    assert response.status_code == 200


def test_a_recording_of_unknown_length_takes_any_moment(qa):
    video = make_video(zone=make_zone(), duration=None)
    assert video_note_add(actor=Actor(user=qa), video=video, at_seconds=5000, text="x").pk


def test_a_deleted_recording_takes_no_notes(video, qa):
    video.delete_date = date(2026, 11, 20)
    video.save()
    with pytest.raises(ValidationError):
        video_note_add(actor=Actor(user=qa), video=video, at_seconds=1, text="x")
    assert nothing_written()


def test_the_author_and_a_superuser_may_delete_a_note_and_nobody_else(video, qa, other):
    note = video_note_add(actor=Actor(user=qa), video=video, at_seconds=3, text="первая")
    with pytest.raises(PermissionDenied):
        video_note_delete(actor=Actor(user=other), note=note)
    with pytest.raises(PermissionDenied):
        video_note_delete(actor=Actor(), note=note)
    assert VideoNote.objects.filter(pk=note.pk).exists()
    assert AccessEvent.objects.filter(action=AccessEvent.Action.NOTE_DELETE).count() == 0

    video_note_delete(actor=Actor(user=qa), note=note)
    second = video_note_add(actor=Actor(user=qa), video=video, at_seconds=4, text="вторая")
    boss = User.objects.create_superuser("boss", password="Boss-pass-1")
    video_note_delete(actor=Actor(user=boss), note=second)
    assert not VideoNote.objects.exists()
    deletions = list(
        AccessEvent.objects.filter(action=AccessEvent.Action.NOTE_DELETE)
        .order_by("id")
        .values_list("username", "detail")
    )
    assert [u for u, _ in deletions] == ["qa", "boss"]
    assert deletions[0][1].startswith("0:03") and deletions[0][1].endswith("первая")


# --- views -----------------------------------------------------------------------------------

JSON = {"HTTP_ACCEPT": "application/json"}


def test_notes_need_a_session(client, video):
    assert client.get(f"/videos/{video.pk}/notes/", **JSON).status_code == 401
    response = client.post(f"/videos/{video.pk}/notes/", {"at": "1", "text": "x"}, **JSON)
    assert response.status_code == 401
    assert nothing_written()


def test_the_player_adds_lists_and_deletes_notes_as_json(client, video, qa):
    client.force_login(qa)
    added = client.post(f"/videos/{video.pk}/notes/", {"at": "83.5", "text": "тут"}, **JSON)
    assert added.status_code == 201
    note = added.json()["note"]
    assert (note["at"], note["moment"], note["text"], note["author"]) == (83.5, "1:23", "тут", "qa")
    assert note["delete"] == f"/videos/{video.pk}/notes/{note['id']}/delete/"

    listed = client.get(f"/videos/{video.pk}/notes/", **JSON).json()
    assert [n["id"] for n in listed["notes"]] == [note["id"]]
    assert listed["add"] == f"/videos/{video.pk}/notes/"

    refused = client.post(f"/videos/{video.pk}/notes/", {"at": "9:99", "text": "x"}, **JSON)
    assert refused.status_code == 400
    assert "1:23" in refused.json()["error"]  # says how to write a moment
    too_late = client.post(f"/videos/{video.pk}/notes/", {"at": "3:00", "text": "x"}, **JSON)
    assert too_late.status_code == 400
    assert "2:05" in too_late.json()["error"]  # the recording's length
    assert VideoNote.objects.count() == 1

    deleted = client.post(note["delete"], **JSON)
    assert deleted.json() == {"deleted": note["id"]}
    assert not VideoNote.objects.exists()
    actions = list(AccessEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["note_add", "note_delete"]


def test_the_page_without_script_adds_a_note_by_form(client, video, qa):
    client.force_login(qa)
    response = client.post(f"/videos/{video.pk}/notes/", {"at": "1:05", "text": "без скрипта"})
    note = VideoNote.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/videos/{video.pk}/?t=65#note-{note.pk}"
    page = client.get(response["Location"]).content.decode()
    assert "без скрипта" in page and "1:05" in page
    empty = client.post(f"/videos/{video.pk}/notes/", {"at": "1:05", "text": ""}, follow=True)
    assert empty.content.decode().count("Напишите заметку") == 1  # in the notes card only
    assert VideoNote.objects.count() == 1


def test_someone_elses_note_is_not_deleted_nor_one_of_another_recording(client, video, qa, other):
    note = video_note_add(actor=Actor(user=qa), video=video, at_seconds=3, text="моя")
    client.force_login(other)
    refused = client.post(f"/videos/{video.pk}/notes/{note.pk}/delete/", **JSON)
    assert refused.status_code == 403
    assert refused.json()["error"]
    listed = client.get(f"/videos/{video.pk}/notes/", **JSON).json()
    assert listed["notes"][0]["delete"] is None  # not offered either

    client.force_login(qa)
    elsewhere = make_video(zone=video.zone)
    assert client.post(f"/videos/{elsewhere.pk}/notes/{note.pk}/delete/", **JSON).status_code == 404
    assert client.get(f"/videos/{video.pk}/notes/{note.pk}/delete/").status_code == 405
    assert VideoNote.objects.filter(pk=note.pk).exists()
    assert not AccessEvent.objects.filter(action="note_delete").exists()


def test_forged_cross_site_posts_are_refused(video, qa):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(qa)
    note = video_note_add(actor=Actor(user=qa), video=video, at_seconds=3, text="моя")
    assert browser.post(f"/videos/{video.pk}/notes/", {"at": "1", "text": "x"}).status_code == 403
    assert browser.post(f"/videos/{video.pk}/notes/{note.pk}/delete/").status_code == 403
    hold = browser.post(f"/videos/{video.pk}/hold/", {"hold": "1", "reason": "x"})
    assert hold.status_code == 403
    assert list(VideoNote.objects.values_list("pk", flat=True)) == [note.pk]
    assert AccessEvent.objects.count() == 1  # the note's own

    # With the page's token the same post goes through.
    browser.get(f"/videos/{video.pk}/")
    token = browser.cookies["csrftoken"].value
    added = browser.post(
        f"/videos/{video.pk}/notes/", {"at": "1", "text": "x"}, HTTP_X_CSRFTOKEN=token, **JSON
    )
    assert added.status_code == 201
