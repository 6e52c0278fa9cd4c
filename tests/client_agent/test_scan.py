"""Picking recordings in PATH_SRC: finished, still being written, unreadable names, and what is
not a recording at all; and removing local copies only while they are what was sent."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from client_agent.selectors import file_look, recording_date_of, recordings_recheck, recordings_scan
from client_agent.services import local_copies_remove
from tests.factories import session_id

PROJECT = "corebo00000000000ng9hgl5vhtinhmo"


def write(directory, name, *, age=3600.0, data=b"x" * 100):
    path = directory / name
    path.write_bytes(data)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def scan(directory, **overrides):
    values = dict(
        directory=directory,
        extension="mp4",
        pattern="",
        workstation="op101",
        settle_seconds=120,
        now=time.time(),
    )
    values.update(overrides)
    return recordings_scan(**values)


def test_finished_recordings_are_ready_with_their_ids_oldest_first(tmp_path):
    write(tmp_path, f"b_{session_id(2)}.mp4", age=600)
    write(tmp_path, f"a_{session_id(1)}_{PROJECT}.MP4", age=7200)  # extension in any case

    result = scan(tmp_path)

    assert [r.session_id for r in result.ready] == [session_id(1), session_id(2)]
    first = result.ready[0]
    assert first.project_id == PROJECT
    assert first.stored_name == f"op101/a_{session_id(1)}_{PROJECT}.MP4"
    assert first.look == file_look(path=tmp_path / first.name)
    assert result.ready[1].project_id is None
    assert result.settling == [] and result.unparseable == []


def test_a_limit_keeps_only_the_oldest_and_counts_the_rest(tmp_path):
    for n, age in enumerate([600, 9000, 300, 7200, 4000], start=1):
        write(tmp_path, f"{n}_{session_id(n)}.mp4", age=age)

    result = scan(tmp_path, limit=2)

    assert [r.name.split("_")[0] for r in result.ready] == ["2", "4"]  # the two oldest
    assert result.ready_total == 5
    assert scan(tmp_path).ready_total == 5
    assert len(scan(tmp_path).ready) == 5


def test_a_recently_modified_file_is_still_being_written(tmp_path):
    write(tmp_path, f"{session_id(1)}.mp4", age=30)
    result = scan(tmp_path)
    assert result.ready == []
    assert result.settling == [f"{session_id(1)}.mp4"]


def test_a_file_that_grows_between_the_two_looks_is_not_taken(tmp_path):
    growing = write(tmp_path, f"{session_id(1)}.mp4")
    steady = write(tmp_path, f"{session_id(2)}.mp4")
    first_look = scan(tmp_path).ready
    # The recorder appends without the time moving (some write through mmap or keep it).
    stamp = growing.stat().st_mtime
    with growing.open("ab") as handle:
        handle.write(b"more")
    os.utime(growing, (stamp, stamp))

    same, changed = recordings_recheck(directory=tmp_path, recordings=first_look)

    assert [r.name for r in same] == [steady.name]
    assert changed == [growing.name]


@pytest.mark.parametrize(
    "name",
    [
        f".{session_id(1)}.mp4",  # hidden: rsync's and editors' temporary files
        f"~{session_id(1)}.mp4",
        f"{session_id(1)}.mp4~",
        f"{session_id(1)}.mp4.part",
        f"{session_id(1)}.mp4.tmp",
        f"{session_id(1)}.mkv",  # not the zone's extension
        f"{session_id(1)}mp4",
    ],
)
def test_what_is_not_a_recording_is_ignored_silently(tmp_path, name):
    write(tmp_path, name)
    result = scan(tmp_path)
    assert (result.ready, result.settling, result.unparseable) == ([], [], [])


def test_directories_and_symbolic_links_are_not_recordings(tmp_path):
    (tmp_path / f"{session_id(1)}.mp4").mkdir()
    outside = write(tmp_path.parent, "secret.mp4")
    (tmp_path / f"{session_id(2)}.mp4").symlink_to(outside)
    result = scan(tmp_path)
    assert (result.ready, result.settling, result.unparseable) == ([], [], [])


def test_unreadable_names_are_reported_with_the_reason(tmp_path):
    write(tmp_path, "notes.mp4")
    write(tmp_path, f"{session_id(1)}\\x.mp4")
    not_utf8 = os.fsencode(tmp_path) + b"/bad-\xff-" + session_id(2).encode() + b".mp4"
    os.close(os.open(not_utf8, os.O_CREAT | os.O_WRONLY))
    os.utime(not_utf8, (0, 0))
    # With the workstation's directory in front, too long for VIDEO.FILE_NAME.
    write(tmp_path, f"{'x' * 200}_{session_id(3)}.mp4")

    reasons = {u.name: u.reason for u in scan(tmp_path, workstation="w" * 60).unparseable}

    assert reasons["notes.mp4"] == "the zone's file name pattern finds no session id"
    assert reasons[f"{session_id(1)}\\x.mp4"] == "the name contains a backslash"
    assert reasons[f"bad-\\xff-{session_id(2)}.mp4"] == "the name is not valid UTF-8"
    assert reasons[f"{'x' * 200}_{session_id(3)}.mp4"].startswith("file name on storage is")


def test_the_zones_pattern_is_used_and_a_broken_one_fails_the_scan(tmp_path):
    write(tmp_path, "ABC-123456.mp4")
    pattern = r"^(?P<project_id>[A-Z]{3})-(?P<session_id>\d+)\."
    (recording,) = scan(tmp_path, pattern=pattern).ready
    assert (recording.session_id, recording.project_id) == ("123456", "ABC")
    with pytest.raises(ValidationError):
        scan(tmp_path, pattern=r"(?P<project_id>x)")


def test_the_recording_date_is_the_modification_date_where_the_call_centre_is(settings):
    settings.TIME_ZONE = "Europe/Moscow"
    late_evening_utc = datetime(2026, 11, 27, 22, 30, tzinfo=UTC).timestamp()
    assert str(recording_date_of(mtime=late_evening_utc)) == "2026-11-28"  # 01:30 in Moscow


def test_local_copies_go_only_while_they_are_what_was_sent(tmp_path):
    for n in (1, 2, 3):
        write(tmp_path, f"{session_id(n)}.mp4")
    sent = scan(tmp_path).ready
    with (tmp_path / sent[1].name).open("ab") as handle:  # touched after it was sent
        handle.write(b"!")
    (tmp_path / sent[2].name).unlink()  # someone removed it already

    removed = local_copies_remove(directory=tmp_path, recordings=sent)

    assert removed == [sent[0].name]
    assert sorted(p.name for p in tmp_path.iterdir()) == [sent[1].name]
