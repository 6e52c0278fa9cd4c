"""Chain of custody, end to end (real client subprocess, sshd + the upload module + rsync,
MariaDB as the client's least-privilege user): a recording leaves the workstation only when
its exact bytes are on storage and registered as this workstation's row, whatever its name's
script.

Each story ends with every recording either on the workstation unchanged or on storage
byte-identical with its row."""

from __future__ import annotations

import hashlib
import os
import shutil
import unicodedata
from datetime import UTC, datetime

from django.utils import timezone

from client_agent.models import Workstation
from storage.models import Video
from storage.retention import videos_purge_expired
from tests.client_agent.conftest import PROJECT_ID
from tests.factories import session_id


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def assert_custody(*, recordings: list[tuple], storage, forged: frozenset = frozenset()) -> None:
    """Every row's file (but the ``forged`` rows a test wrote) is on storage with the row's
    size and hash; and every recording made (``(host, name, bytes)``) is still on its
    workstation unchanged, or on storage byte-identical with a row that says so."""
    stored = storage.stored()
    rows = {v.file_name: v for v in Video.objects.all()}
    for name, row in rows.items():
        if name in forged:
            continue
        assert name in stored, f"{name} registered but not on storage"
        if row.content_hash is not None:
            assert (row.size, row.content_hash) == (len(stored[name]), sha256(stored[name]))
    for host, name, data in recordings:
        local = host.src / name
        if local.exists():
            assert local.read_bytes() == data, f"{name} changed on {host.name}"
            continue
        key = f"{host.name}/{name}"
        assert stored.get(key) == data, f"{key}: gone from the workstation, not on storage"
        assert rows[key].content_hash == sha256(data), f"{key}: gone, but its row differs"


# Session ids 41..: one per name. Two spellings of one word: precomposed (NFC) and decomposed
# (NFD) are different names, both kept as the bytes they are.
CAFE_NFC = unicodedata.normalize("NFC", "Café Ñandú")
CAFE_NFD = unicodedata.normalize("NFD", "Café Ñandú")
NAMES = {
    41: f"Звонок оператора_{session_id(41)}_{PROJECT_ID}.mp4",
    42: f"{CAFE_NFC}_{session_id(42)}.mp4",
    43: f"{CAFE_NFD}_{session_id(43)}.mp4",
    44: f"通话录音 客户_{session_id(44)}.mp4",
    45: f"Ελληνικά και עברית_{session_id(45)}.mp4",
    46: f"with  two spaces {session_id(46)}.mp4",
}


def test_names_in_any_script_are_sent_verified_registered_and_cleaned_up(host, storage):
    assert CAFE_NFC != CAFE_NFD
    paths = {n: host.record(n, name=name, size=20_000 + n) for n, name in NAMES.items()}
    contents = {f"op101/{p.name}": p.read_bytes() for p in paths.values()}

    result = host.run("once")

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(NAMES)} delivered" in result.stdout
    assert storage.stored() == contents
    # Stored under the very bytes the workstation had: no normalisation on the way.
    on_disk = {os.fsencode(p.name) for p in (storage.dst / "op101").iterdir()}
    assert on_disk == {os.fsencode(name) for name in NAMES.values()}
    rows = {v.file_name: v for v in Video.objects.all()}
    assert set(rows) == set(contents)
    for n, name in NAMES.items():
        row = rows[f"op101/{name}"]
        assert row.session_id == session_id(n)
        assert row.content_hash == sha256(contents[row.file_name])
        assert row.hash_origin == "workstation"
    assert list(host.src.iterdir()) == []
    assert "did not arrive" not in host.log()
    assert_custody(
        recordings=[(host, n, contents[f"op101/{n}"]) for n in NAMES.values()], storage=storage
    )


def test_a_cloned_workstation_keeps_its_recording_when_the_name_is_taken(make_host, storage):
    """Two computers under one host name record one file name, same size, other bytes."""
    name = f"2026-11-27_10-15-02_{session_id(7)}.mp4"
    first = make_host("op101", own_disk=True)
    clone = make_host("op101", own_disk=True, machine="op101-clone")
    original = first.record(7, name=name, size=30_000).read_bytes()
    theirs = clone.record(7, name=name, size=30_000)
    other = theirs.read_bytes()
    # The same time too: size and time alone would call them one file.
    os.utime(theirs, ns=(first.src.joinpath(name).stat().st_mtime_ns,) * 2)
    assert original != other and len(original) == len(other)

    assert first.run("once").returncode == 0
    result = clone.run("once")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 delivered" in result.stdout and "1 kept as collisions" in result.stdout
    assert theirs.read_bytes() == other  # the clone's only copy is still there
    assert storage.stored() == {f"op101/{name}": original}
    row = Video.objects.get()
    assert (row.file_name, row.content_hash) == (f"op101/{name}", sha256(original))
    assert "holds other content" in clone.log()
    beat = Workstation.objects.get(host="op101")
    assert beat.collision_count == 1 and name in beat.last_error
    # Nothing changes on the next cycles: still kept, still reported, never deleted.
    assert clone.run("once").returncode == 0
    assert theirs.read_bytes() == other
    assert_custody(recordings=[(first, name, original), (clone, name, other)], storage=storage)


def test_a_row_written_beforehand_never_lets_the_owner_delete_its_copy(host, storage):
    """A row someone wrote for the owner's name before it registered: no size, no hash."""
    recording = host.record(5)
    data = recording.read_bytes()
    stored_name = f"op101/{recording.name}"
    Video.objects.create(
        zone=storage.zone,
        file_name=stored_name,
        session_id=session_id(5),
        recording_date="2000-01-01",
        storage_days=0,
        size=None,
    )

    result = host.run("once")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept as collisions" in result.stdout
    assert recording.read_bytes() == data  # kept until it is registered properly
    assert storage.stored() == {stored_name: data}  # sent all the same
    assert "VIDEO already has" in host.log()
    row = Video.objects.get()
    assert (row.size, row.content_hash) == (None, None)  # the client never fixes other rows

    # An admin removes the bogus row: the next cycle registers without sending again.
    Video.objects.all().delete()
    sent_before = host.transfer_log().count("send: opvideo-send: ")
    result = host.run("once")
    assert "1 delivered" in result.stdout, result.stdout
    assert host.transfer_log().count("send: opvideo-send: ") == sent_before
    assert not recording.exists()
    assert_custody(recordings=[(host, recording.name, data)], storage=storage)


def test_killed_between_the_insert_and_the_deletions_the_next_cycle_finishes_cleanly(
    host, storage, tmp_path
):
    """The state a kill right after the INSERT leaves: files stored and registered, local
    copies still there. Made exactly, by putting the delivered files back as they were."""
    recordings = [host.record(n, size=40_000 + n) for n in (1, 2, 3)]
    made = [(host, p.name, p.read_bytes()) for p in recordings]
    aside = tmp_path / "aside"
    aside.mkdir()
    for path in recordings:
        shutil.copy2(path, aside / path.name)
    assert host.run("once").returncode == 0
    stored = {p.name: os.stat(storage.dst / "op101" / p.name) for p in recordings}
    rows_before = list(Video.objects.order_by("id").values())
    for path in recordings:
        shutil.copy2(aside / path.name, path)
    sends_before = host.transfer_log().count("send: opvideo-send: ")
    assert sends_before == 3  # what the first cycle sent, as the log shows a transfer

    result = host.run("once")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 delivered" in result.stdout
    assert all(not p.exists() for p in recordings)
    # Not sent twice: no transfer line, the stored files are the same inodes, untouched.
    assert host.transfer_log().count("send: opvideo-send: ") == sends_before
    for path in recordings:
        now = os.stat(storage.dst / "op101" / path.name)
        before = stored[path.name]
        assert (now.st_ino, now.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert list(Video.objects.order_by("id").values()) == rows_before
    assert_custody(recordings=made, storage=storage)


def test_a_file_changed_after_it_was_read_is_not_registered_with_the_old_hash(host, storage):
    """Same size and time put back after a change: the content check still sees it."""
    recording = host.record(9, size=25_000)
    stamp = recording.stat().st_mtime_ns
    first = host.run("once")
    assert "1 delivered" in first.stdout
    data = bytearray(storage.stored()[f"op101/{recording.name}"])
    data[100] ^= 0xFF
    recording.write_bytes(bytes(data))
    os.utime(recording, ns=(stamp, stamp))

    result = host.run("once")

    assert "1 kept as collisions" in result.stdout, result.stdout
    assert recording.read_bytes() == bytes(data)
    assert_custody(recordings=[(host, recording.name, bytes(data))], storage=storage)


def test_rows_prewritten_with_the_clients_own_login(host, storage, client_account):
    """Anyone holding the client's database login (every workstation has it) writes rows for
    another workstation's next recording: the database refuses the crude one; a well-formed
    one with other bytes' hash is never taken as the owner's."""
    import MySQLdb

    from tests.client_agent.test_row_checks import connect, insert_statement

    crude, forged = host.record(5), host.record(6)
    rows = {
        crude: (None, None, 0),  # the story: no size, no hash, no retention
        forged: (forged.stat().st_size, sha256(b"other bytes"), 30),
    }
    conn = connect(client_account)
    try:
        cursor = conn.cursor()
        for path, (size, content_hash, days) in rows.items():
            values = (
                storage.zone.pk,
                PROJECT_ID,
                session_id(5),
                f"op101/{path.name}",
                "2000-01-01",
                days,
                size,
                "op101",
                content_hash,
                "workstation",
            )
            if path is crude:
                try:
                    cursor.execute(insert_statement(), values)
                except MySQLdb.OperationalError as exc:
                    assert exc.args[0] == 1644 and "SIZE is missing" in exc.args[1]
                else:
                    raise AssertionError("the database took a row without size or hash")
            else:
                cursor.execute(insert_statement(), values)
    finally:
        conn.close()
    data = {p: p.read_bytes() for p in rows}

    result = host.run("once")

    assert "1 delivered" in result.stdout and "1 kept as collisions" in result.stdout
    assert not crude.exists()  # registered properly: its row was never written
    assert Video.objects.get(file_name=f"op101/{crude.name}").content_hash == sha256(data[crude])
    assert forged.read_bytes() == data[forged]  # kept: the row is not this file's
    assert Video.objects.get(file_name=f"op101/{forged.name}").content_hash == sha256(
        b"other bytes"
    )
    assert_custody(
        recordings=[(host, p.name, d) for p, d in data.items()],
        storage=storage,
        forged=frozenset({f"op101/{forged.name}"}),
    )


def test_a_stale_date_in_the_name_does_not_send_the_recording_to_the_purge(host, storage):
    """A recorder's stamp years old (or a misparse) used to be the RECORDING_DATE: the row
    arrived expired, and the night's purge deleted the only copy of a call made today."""
    stale = host.record(8, name=f"2019-03-01_10-00-00_{session_id(8)}_{PROJECT_ID}.mp4")
    data = stale.read_bytes()
    modified = timezone.localdate(datetime.fromtimestamp(stale.stat().st_mtime, tz=UTC))

    result = host.run("once")

    assert result.returncode == 0, result.stdout + result.stderr
    row = Video.objects.get()
    assert row.recording_date == modified  # the day the file was written, not 2019
    assert (
        f"{stale.name}: the date in its name, 2019-03-01, is more than a day from its "
        f"modification date, {modified.isoformat()}" in host.log()
    )
    summary = videos_purge_expired(zone=storage.zone)
    assert (summary.deleted, summary.failed) == (0, 0)
    row.refresh_from_db()
    assert row.delete_date is None
    assert_custody(recordings=[(host, stale.name, data)], storage=storage)
    assert storage.stored() == {f"op101/{stale.name}": data}
