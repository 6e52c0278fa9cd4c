"""Picking recordings in PATH_SRC: finished, still being written, unreadable names, and what is
not a recording at all; and removing local copies only while they are what was sent."""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from client_agent.names import recording_date_of
from client_agent.selectors import file_look, recordings_recheck, recordings_scan
from client_agent.stages import local_copies_remove
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
    assert str(recording_date_of(name="x.mp4", mtime=late_evening_utc)) == "2026-11-28"  # 01:30 MSK


def test_the_recording_date_is_the_date_in_the_name_within_a_day_of_the_file(
    tmp_path, settings, caplog
):
    settings.TIME_ZONE = "Europe/Moscow"
    # Finished at 00:20 on the 28th in Moscow.
    finished = datetime(2026, 11, 27, 21, 20, tzinfo=UTC)
    names = {
        # name date = modification date
        1: (f"2026-11-28_00-05-10_{session_id(1)}.mp4", "2026-11-28"),
        # the day before: a call that began before midnight and ended after it
        2: (f"2026-11-27_23-55-10_{session_id(2)}.mp4", "2026-11-27"),
        # the day after: a recorder's clock a little ahead, near midnight
        3: (f"2026-11-29_00-01-00_{session_id(3)}.mp4", "2026-11-29"),
        # years ago: a stale stamp; believed, the row would be expired on arrival
        4: (f"2019-03-01_10-00-00_{session_id(4)}.mp4", "2026-11-28"),
        # two days before: already too far
        5: (f"2026-11-26_23-59-59_{session_id(5)}.mp4", "2026-11-28"),
        # in the future: a wrong clock
        6: (f"2031-01-01_10-00-00_{session_id(6)}.mp4", "2026-11-28"),
        # none, or not a date at all: the modification date
        7: (f"{session_id(7)}.mp4", "2026-11-28"),
        8: (f"2026-02-30_10-00-00_{session_id(8)}.mp4", "2026-11-28"),
    }
    for name, _expected in names.values():
        path = write(tmp_path, name)
        os.utime(path, (finished.timestamp(), finished.timestamp()))

    with caplog.at_level(logging.WARNING, logger="client_agent"):
        dates = {r.session_id: str(r.recording_date) for r in scan(tmp_path).ready}
        scan(tmp_path)  # a second cycle over the same files

    assert dates == {session_id(n): expected for n, (_name, expected) in names.items()}
    # One warning per refused name, however many cycles see the file, naming both dates.
    warnings = sorted(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert warnings == [
        f"{names[n][0]}: the date in its name, {named}, is more than a day from its "
        "modification date, 2026-11-28 (Europe/Moscow): dated by the modification date"
        for n, named in ((4, "2019-03-01"), (5, "2026-11-26"), (6, "2031-01-01"))
    ]
    # A zone's own spelling of the date.
    other = tmp_path / "other"
    other.mkdir()
    path = write(other, f"27.11.2026_{session_id(9)}.mp4")
    os.utime(path, (finished.timestamp(), finished.timestamp()))
    pattern = r"^(?P<date>\d\d\.\d\d\.\d{4})_(?P<session_id>node\S+)\.mp4$"
    (recording,) = scan(other, pattern=pattern).ready
    assert str(recording.recording_date) == "2026-11-27"


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


def test_the_scan_dates_each_recording_by_its_local_modification_day(tmp_path, settings):
    settings.TIME_ZONE = "Europe/Moscow"
    just_before = datetime(2026, 11, 27, 20, 59, 59, 999_999, tzinfo=UTC)  # 23:59:59.999999
    midnight = datetime(2026, 11, 27, 21, 0, tzinfo=UTC)  # 00:00 on the 28th in Moscow
    for n, moment in ((1, just_before), (2, midnight)):
        path = write(tmp_path, f"{session_id(n)}.mp4")
        stamp_ns = int(moment.timestamp()) * 10**9 + moment.microsecond * 1000
        os.utime(path, ns=(stamp_ns, stamp_ns))

    dates = {r.session_id: str(r.recording_date) for r in scan(tmp_path).ready}

    assert dates == {session_id(1): "2026-11-27", session_id(2): "2026-11-28"}
    assert dates[session_id(1)] == str(
        recording_date_of(name="x.mp4", mtime=just_before.timestamp())
    )


def rounds(directory, *, limit, between=lambda ready: None):
    """A cycle's rounds as services._deliver runs them: each after the previous one's last."""
    taken, after = [], None
    while True:
        result = scan(directory, limit=limit, after=after)
        taken.append([r.name for r in result.ready])
        between(result.ready)
        if result.ready_total <= len(result.ready):
            return taken, result
        after = result.last_key


def test_rounds_take_every_recording_once_oldest_first(tmp_path):
    ages = [9000, 600, 7200, 300, 4000, 8000, 100 + 120, 5000]  # the last one is the newest
    for n, age in enumerate(ages, start=1):
        write(tmp_path, f"{n}_{session_id(n)}.mp4", age=age)
    oldest_first = [f"{n}_{session_id(n)}.mp4" for n in (1, 6, 3, 8, 5, 2, 4, 7)]

    # Nothing is removed between rounds (as if every file were kept back): later rounds
    # still take each file once, and none is left out.
    taken, _last = rounds(tmp_path, limit=3)

    assert taken == [oldest_first[:3], oldest_first[3:6], oldest_first[6:]]


def test_a_round_counts_what_is_left_after_it(tmp_path):
    for n in range(1, 6):
        write(tmp_path, f"{n}_{session_id(n)}.mp4", age=1000 * (10 - n))
    first = scan(tmp_path, limit=2)
    second = scan(tmp_path, limit=2, after=first.last_key)

    assert [r.name[0] for r in second.ready] == ["3", "4"]
    assert second.ready_total == 3  # 3, 4 and 5: the first round's two are not counted
    assert second.last_key == (second.ready[-1].mtime_ns, second.ready[-1].name)


def test_later_rounds_read_only_the_names_they_take(tmp_path):
    """The first round reads every name and reports the unparseable ones; a later round
    reports only those among what it takes, and moves on past them."""
    names = {}
    for n in range(1, 9):
        name = f"notes-{n}.mp4" if n in (4, 5, 6, 8) else f"{n}_{session_id(n)}.mp4"
        write(tmp_path, name, age=1000 * (10 - n))  # 1 is the oldest
        names[n] = name

    first = scan(tmp_path, limit=3)
    assert [r.name for r in first.ready] == [names[1], names[2], names[3]]
    assert [u.name for u in first.unparseable] == sorted(names[n] for n in (4, 5, 6, 8))
    assert first.ready_total == 4

    second = scan(tmp_path, limit=3, after=first.last_key)
    assert second.ready == []  # 4, 5 and 6 all cannot be read
    assert [u.name for u in second.unparseable] == [names[4], names[5], names[6]]
    assert second.ready_total == 2  # 7 and 8, not known yet to be unreadable

    third = scan(tmp_path, limit=3, after=second.last_key)
    assert [r.name for r in third.ready] == [names[7]]
    assert [u.name for u in third.unparseable] == [names[8]]
    assert third.ready_total == 1


def test_a_recording_that_finishes_between_rounds_is_taken_by_a_later_one(tmp_path):
    for n in range(1, 5):
        write(tmp_path, f"{n}_{session_id(n)}.mp4", age=1000 * (10 - n))
    late = write(tmp_path, f"9_{session_id(9)}.mp4", age=10)  # still being written

    def finish_late_one(ready):
        stamp = time.time() - 500
        os.utime(late, (stamp, stamp))

    taken, _last = rounds(tmp_path, limit=2, between=finish_late_one)

    assert [name for names in taken for name in names] == [
        *(f"{n}_{session_id(n)}.mp4" for n in range(1, 5)),
        late.name,
    ]


def test_a_file_removed_or_renamed_between_rounds_is_not_lost(tmp_path):
    for n in range(1, 7):
        write(tmp_path, f"{n}_{session_id(n)}.mp4", age=1000 * (10 - n))
    first = scan(tmp_path, limit=2)
    (tmp_path / f"3_{session_id(3)}.mp4").unlink()
    (tmp_path / f"4_{session_id(4)}.mp4").rename(tmp_path / f"a4_{session_id(4)}.mp4")

    second = scan(tmp_path, limit=10, after=first.last_key)

    assert [r.name for r in second.ready] == [
        f"a4_{session_id(4)}.mp4",  # same time, new name: still after the first round's
        f"5_{session_id(5)}.mp4",
        f"6_{session_id(6)}.mp4",
    ]


def test_a_file_that_appears_between_rounds_with_an_older_time_waits_for_the_next_cycle(
    tmp_path,
):
    """A recorder that writes under a temporary name and renames the finished file keeps
    its time: one that lands behind the previous round's last is not taken by this cycle's
    later rounds, and the next cycle's first round (no ``after``) takes it."""
    for n in range(1, 5):
        write(tmp_path, f"{n}_{session_id(n)}.mp4", age=1000 * (10 - n))
    first = scan(tmp_path, limit=2)
    write(tmp_path, f"0_{session_id(9)}.mp4", age=20_000)  # renamed into place just now

    later = scan(tmp_path, limit=10, after=first.last_key)
    next_cycle = scan(tmp_path, limit=10)

    assert [r.name[0] for r in later.ready] == ["3", "4"]
    assert [r.name[0] for r in next_cycle.ready] == ["0", "1", "2", "3", "4"]
