"""Registering delivered recordings: one batch, idempotent, confirmed by reading back."""

import hashlib
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from storage.models import Video
from storage.registration import (
    BATCH_SIZE,
    NewRecording,
    recording_problem,
    video_register_batch,
)
from tests.factories import make_video, make_zone, session_id

pytestmark = pytest.mark.django_db


def recording(n: int, **overrides) -> NewRecording:
    values = dict(
        file_name=f"op101/rec_{n}.mp4",
        session_id=session_id(n),
        project_id="corebo00000000000ng9hgl5vhtinhmo",
        recording_date=date(2026, 11, 27),
        size=1000 + n,
        content_hash=content_hash(n),
    )
    values.update(overrides)
    return NewRecording(**values)


def content_hash(n: int) -> str:
    return hashlib.sha256(f"recording {n}".encode()).hexdigest()


def test_a_batch_is_one_insert_and_every_row_is_confirmed():
    zone = make_zone(retention_days=45)
    files = [recording(n) for n in range(5)]
    with CaptureQueriesContext(connection) as queries:
        result = video_register_batch(zone=zone, workstation="op101", files=files)
    inserts = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1
    # Confirmed by one read of the batch by the unique key, of the columns it may read.
    (confirm,) = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert confirm.startswith(
        "SELECT `FILE_NAME`, `SIZE`, `HASH`, `WORKSTATION` FROM `VIDEO` WHERE `ZONE_ID` = "
    )
    assert len(queries) == 2
    # Only the columns a workstation may write are named (its GRANT is per column).
    assert "LEGAL_HOLD" not in inserts[0] and "REGISTERED_AT" not in inserts[0]
    assert sorted(result.registered) == sorted(f.file_name for f in files)
    assert result.conflicts == []
    row = Video.objects.get(file_name="op101/rec_3.mp4")
    assert (row.session_id, row.size, row.storage_days, row.workstation) == (
        session_id(3),
        1003,
        45,
        "op101",
    )
    assert (row.content_hash, row.hash_origin) == (content_hash(3), "workstation")
    assert row.registered_at is not None and row.legal_hold is False


def test_registering_again_changes_nothing():
    zone = make_zone()
    files = [recording(n) for n in range(3)]
    video_register_batch(zone=zone, workstation="op101", files=files)
    before = list(Video.objects.order_by("id").values())

    result = video_register_batch(zone=zone, workstation="op101", files=files)

    assert sorted(result.registered) == sorted(f.file_name for f in files)
    assert list(Video.objects.order_by("id").values()) == before


def test_only_this_workstations_row_for_these_bytes_confirms_a_file():
    zone = make_zone()
    make_video(zone=zone, file_name="op101/rec_1.mp4", size=5)  # another size
    # An old client's row, without size or hash: says nothing about the bytes.
    make_video(zone=zone, file_name="op101/rec_2.mp4", size=None)
    # Same size, other bytes: a cloned workstation's recording under the same name.
    make_video(
        zone=zone,
        file_name="op101/rec_3.mp4",
        size=1003,
        content_hash=content_hash(99),
        workstation="op101",
    )
    # Size and hash right, but written as another workstation's row.
    make_video(
        zone=zone,
        file_name="op101/rec_4.mp4",
        size=1004,
        content_hash=content_hash(4),
        workstation="op666",
    )
    # Size right, hash missing: a pre-written row never confirms anything.
    make_video(zone=zone, file_name="op101/rec_5.mp4", size=1005, workstation="op101")
    files = [recording(n) for n in range(1, 7)]

    result = video_register_batch(zone=zone, workstation="op101", files=files)

    assert sorted(result.conflicts) == [f"op101/rec_{n}.mp4" for n in range(1, 6)]
    assert result.registered == ["op101/rec_6.mp4"]
    assert Video.objects.get(file_name="op101/rec_1.mp4").size == 5
    assert Video.objects.get(file_name="op101/rec_3.mp4").content_hash == content_hash(99)


def test_a_malformed_hash_is_refused_before_anything_is_written():
    zone = make_zone()
    for bad in ("", "A" * 64, content_hash(1)[:63], content_hash(1) + "0"):
        with pytest.raises(ValueError, match="SHA-256"):
            video_register_batch(
                zone=zone, workstation="op101", files=[recording(1, content_hash=bad)]
            )
    assert not Video.objects.exists()


def test_the_same_name_in_another_zone_is_another_recording():
    first, second = make_zone(), make_zone()
    video_register_batch(zone=first, workstation="op101", files=[recording(1)])
    result = video_register_batch(zone=second, workstation="op101", files=[recording(1)])
    assert result.registered == ["op101/rec_1.mp4"]
    assert Video.objects.filter(file_name="op101/rec_1.mp4").count() == 2


def test_large_batches_are_split():
    zone = make_zone()
    files = [recording(n) for n in range(BATCH_SIZE + 7)]
    with CaptureQueriesContext(connection) as queries:
        result = video_register_batch(zone=zone, workstation="op101", files=files)
    assert [q["sql"].split()[0] for q in queries] == ["INSERT", "INSERT", "SELECT", "SELECT"]
    assert len(result.registered) == len(files)
    assert Video.objects.count() == len(files)


def test_values_that_do_not_fit_are_refused_before_anything_is_written():
    zone = make_zone()
    too_long = recording(2, session_id="s" * 51)
    with pytest.raises(ValueError, match="session id"):
        video_register_batch(zone=zone, workstation="op101", files=[recording(1), too_long])
    assert not Video.objects.exists()


def test_recording_problem():
    assert recording_problem(file_name="a/b.mp4", session_id="s", project_id=None) is None
    assert "file name" in recording_problem(file_name="x" * 256, session_id="s", project_id=None)
    assert "project id" in recording_problem(file_name="a", session_id="s", project_id="p" * 41)
    assert recording_problem(file_name="a", session_id="", project_id=None) == "no session id"
