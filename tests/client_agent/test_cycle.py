"""A cycle of the real client (subprocess, least-privilege database user, real sshd + the
upload module + rsync), and what it leaves behind: files on storage, rows in VIDEO, a
heartbeat, logs."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import stat
from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

from client_agent.models import Workstation
from search.selectors import VideoFilters, video_search
from storage.models import Video
from tests.client_agent.conftest import PROJECT_ID, db_connections_of, kill_group, wait_for
from tests.factories import session_id
from tests.services.tcp_proxy import tcp_proxy
from zones.models import Zone


def test_one_cycle_delivers_registers_and_cleans_up(host, storage):
    recordings = [host.record(n, size=50_000 + n) for n in range(1, 3)]
    # A call stamped late on the day before its file was written (an hour ago, as record()
    # writes them): its day is the stamp's, which the file's own time would not give.
    written_on = timezone.localtime(timezone.now() - timedelta(hours=1)).date()
    began = datetime.combine(written_on - timedelta(days=1), time(23, 30))
    late = f"{began:%Y-%m-%d_%H-%M-%S}_{session_id(3)}_{PROJECT_ID}.mp4"
    recordings.append(host.record(3, size=50_003, name=late))
    contents = {f"op101/{p.name}": p.read_bytes() for p in recordings}

    result = host.run("once")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 delivered" in result.stdout
    assert storage.stored() == contents
    assert storage.temporary_files() == []
    assert list(host.src.iterdir()) == []
    rows = {v.file_name: v for v in Video.objects.all()}
    assert set(rows) == set(contents)
    for n, path in enumerate(recordings, start=1):
        row = rows[f"op101/{path.name}"]
        assert row.zone_id == storage.zone.pk
        assert row.session_id == session_id(n)
        assert row.project_id == PROJECT_ID
        assert row.size == len(contents[row.file_name])
        assert row.workstation == "op101"
        assert row.storage_days == 30
        # The day the call began, as the recorder's stamp in the name says.
        assert row.recording_date.isoformat() == path.name[:10]
    assert rows[f"op101/{late}"].recording_date == began.date() != written_on
    beat = Workstation.objects.get(host="op101")
    assert beat.zone_id == storage.zone.pk
    assert beat.last_success is not None
    assert (beat.pending_count, beat.unparseable_count, beat.delivered_count) == (0, 0, 3)
    assert beat.last_error == ""
    # The key was on disk only during the cycle.
    assert list(host.key_dir.iterdir()) == []
    # ssh/rsync went to their own log, the cycle summary to the other.
    assert "exit code 0" in host.transfer_log()
    assert "cycle ok" in host.log()
    assert settings.TIME_ZONE  # the recording date above is in the client's TIME_ZONE
    assert os.environ.get("OPVIDEO_CLIENT_CONFIG") is None


def test_unfinished_and_unreadable_recordings_stay_and_are_reported(host, storage):
    finished = host.record(1)
    being_written = host.record(2, age=1)
    unreadable = host.record(0, name="notes from the call.mp4")
    ignored = [
        host.record(0, name=".2026-11-27_node_0_domain_0_nauss_0_1_2.mp4"),  # hidden
        host.record(0, name="node_0_domain_0_nauss_0_1_3.mp4.part"),  # temporary
        host.record(0, name="node_0_domain_0_nauss_0_1_4.avi"),  # not the zone's extension
    ]

    result = host.run("once")

    assert result.returncode == 0, result.stdout + result.stderr
    assert set(storage.stored()) == {f"op101/{finished.name}"}
    assert all(p.exists() for p in [being_written, unreadable, *ignored])
    assert list(Video.objects.values_list("session_id", flat=True)) == [session_id(1)]
    assert "notes from the call.mp4 (the zone's file name pattern finds no session id)" in (
        host.log()
    )
    beat = Workstation.objects.get(host="op101")
    assert (beat.pending_count, beat.unparseable_count) == (1, 1)

    status = host.run("status")

    assert status.returncode == 0, status.stderr
    assert "waiting:" in status.stdout and "1 still being written" in status.stdout
    assert "oldest finished" not in status.stdout  # the finished one is gone
    assert re.search(r"^left in place: +1$", status.stdout, re.MULTILINE), status.stdout
    assert "notes from the call.mp4" in status.stdout
    assert ".2026-11-27" not in status.stdout and ".part" not in status.stdout
    assert "zone settings:" in status.stdout and f"into {storage.dst}" in status.stdout
    assert (
        "last success:" in status.stdout and "never" not in status.stdout.split("last success:")[1]
    )


def test_storage_server_down_loses_nothing_and_the_next_cycle_sends(host, storage):
    recordings = [host.record(n) for n in (1, 2)]
    contents = {f"op101/{p.name}": p.read_bytes() for p in recordings}
    storage.server.stop()

    result = host.run("once")

    assert result.returncode == 1
    assert "not sent, kept here" in result.stdout
    assert all(p.exists() for p in recordings)
    assert storage.stored() == {}
    assert not Video.objects.exists()
    assert "Connection refused" in host.transfer_log()
    # Retried once, as configured (ssh's 255 or rsync's 12, whichever notices first).
    assert host.transfer_log().count("send: exit code ") == 2
    assert "send: exit code 0" not in host.transfer_log()
    beat = Workstation.objects.get(host="op101")
    assert beat.last_success is None
    assert "Connection refused" in beat.last_error
    assert list(host.key_dir.iterdir()) == []  # removed although the cycle failed

    storage.server.start()
    result = host.run("once")

    assert result.returncode == 0, result.stdout
    assert storage.stored() == contents
    assert Video.objects.count() == 2
    assert not any(p.exists() for p in recordings)
    beat.refresh_from_db()
    assert beat.last_success is not None and beat.last_error == ""


def test_a_refused_key_is_not_retried_and_says_what_to_do(host, storage):
    recording = host.record(1)
    storage.server.authorized_keys.write_text("")  # the line was never installed

    result = host.run("once")

    assert result.returncode == 1
    assert "refused the zone's key" in result.stdout
    assert "authorized_keys line" in result.stdout
    assert host.transfer_log().count("send: exit code ") == 1
    assert recording.exists()


def _transfer_in_progress(storage, workstation="op101"):
    """rsync's receiver writes a hidden temporary file next to the final name while it works."""
    return lambda: any(storage.dst.glob(f"{workstation}/.*"))


def test_database_down_after_the_transfer_keeps_the_copies_and_registers_next_cycle(
    make_host, storage, client_account
):
    with tcp_proxy(target=(client_account.host, client_account.port)) as database:
        host = make_host(DATABASE_URL=client_account.url(port=database.port))
        Zone.objects.filter(pk=storage.zone.pk).update(speed_kbps=100)
        big = host.record(1, size=600_000)
        small = host.record(2)
        contents = {f"op101/{p.name}": p.read_bytes() for p in (big, small)}

        client = host.popen("once")
        # The zone was read before sending started; the database goes away mid-transfer.
        wait_for(_transfer_in_progress(storage), what="the transfer", proc=client)
        database.cut()
        out, _err = client.communicate(timeout=120)

        assert client.returncode == 1
        assert "database unreachable while registering 2 delivered recording(s)" in out
        assert storage.stored() == contents  # delivered
        assert big.exists() and small.exists()  # but not registered, so kept
        assert not Video.objects.exists()

        database.open()
        result = host.run("once")

        assert result.returncode == 0, result.stdout
        assert "2 delivered" in result.stdout
        assert not big.exists() and not small.exists()
        assert sorted(Video.objects.values_list("file_name", flat=True)) == sorted(contents)
        assert storage.stored() == contents
        # Sent again, found already there (-no-overwrite), registered once.
        assert host.run("once").returncode == 0
        assert Video.objects.count() == 2


def test_killed_mid_transfer_the_next_cycle_completes_the_file(host, storage):
    assert db_connections_of(host.account.user) == 0
    Zone.objects.filter(pk=storage.zone.pk).update(speed_kbps=200)
    recording = host.record(1, size=3_000_000)
    original = hashlib.sha256(recording.read_bytes()).hexdigest()

    client = host.popen("once")
    wait_for(_transfer_in_progress(storage), what="the transfer", proc=client)
    # No database connection is held while it sends (thousands of workstations do this).
    assert db_connections_of(host.account.user) == 0
    # While it works, the key is a 0600 file in a 0700 directory of its own.
    (session,) = host.key_dir.iterdir()
    assert stat.S_IMODE(session.stat().st_mode) == 0o700
    assert stat.S_IMODE((session / "id").stat().st_mode) == 0o600
    kill_group(client)  # as systemd kills the service's control group, or a power cut

    assert client.returncode == -signal.SIGKILL
    # Never a truncated file under the final name: the server drops its temporary file.
    wait_for(lambda: not storage.temporary_files(), what="the server to drop the partial file")
    assert storage.stored() == {}
    assert hashlib.sha256(recording.read_bytes()).hexdigest() == original
    assert not Video.objects.exists()

    Zone.objects.filter(pk=storage.zone.pk).update(speed_kbps=99_999)
    result = host.run("once")

    assert result.returncode == 0, result.stdout
    (stored,) = storage.stored().values()
    assert hashlib.sha256(stored).hexdigest() == original
    assert Video.objects.get().size == 3_000_000
    assert not recording.exists()
    assert list(host.key_dir.iterdir()) == []  # the killed run's key is gone too


def test_two_instances_at_once_one_runs_one_says_why(host, storage):
    first, second = host.popen("run"), host.popen("run")
    try:
        wait_for(
            lambda: first.poll() is not None or second.poll() is not None,
            what="one of them to give way",
        )
        loser, winner = (first, second) if first.poll() is not None else (second, first)
        _out, err = loser.communicate()
        assert loser.returncode == 3
        assert "another opvideo client is already running" in err
        assert f"pid {winner.pid}, run" in err
        assert winner.poll() is None

        once = host.run("once")
        assert once.returncode == 3
        assert "service opvideo stop" in once.stderr
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
    assert winner.wait(timeout=30) == 0
    assert "received SIGTERM, stopping" in host.log()


def test_two_workstations_with_the_same_file_name_both_keep_their_recording(make_host, storage):
    # A call transferred between two operators is recorded on both workstations.
    name = f"2026-11-27_10-15-02_{session_id(7)}.mp4"
    hosts = [make_host(ws, own_disk=True) for ws in ("op101", "op102")]
    contents = {f"{h.name}/{name}": h.record(7, name=name).read_bytes() for h in hosts}
    assert len(set(contents.values())) == 2

    clients = [h.popen("once") for h in hosts]
    outputs = [c.communicate(timeout=120) for c in clients]

    assert [c.returncode for c in clients] == [0, 0], outputs
    assert storage.stored() == contents
    found = video_search(filters=VideoFilters(session_id=session_id(7)))
    assert sorted((v.workstation, v.file_name) for v in found) == [
        ("op101", f"op101/{name}"),
        ("op102", f"op102/{name}"),
    ]
    assert all(list(h.src.iterdir()) == [] for h in hosts)


def test_ten_workstations_of_a_zone_send_at_once_through_the_same_key(make_host, storage):
    hosts = [make_host(f"op{100 + i}", own_disk=True) for i in range(10)]
    expected = {}
    for i, host in enumerate(hosts):
        for k in range(3):
            path = host.record(i * 10 + k, size=20_000 + k)
            expected[f"{host.name}/{path.name}"] = path.read_bytes()

    clients = [h.popen("once") for h in hosts]
    outputs = [c.communicate(timeout=180) for c in clients]

    assert [c.returncode for c in clients] == [0] * 10, outputs
    assert storage.stored() == expected
    rows = list(Video.objects.values_list("file_name", flat=True))
    assert sorted(rows) == sorted(expected)  # every file once
    assert all(list(h.src.iterdir()) == [] for h in hosts)
    assert Workstation.objects.filter(delivered_count=3, last_error="").count() == 10


def test_a_zone_without_a_row_is_logged_and_retried_not_a_crash_loop(make_host, storage):
    host = make_host(OPVIDEO_ZONE="orel", OPVIDEO_INTERVAL="0.5")
    recording = host.record(1)

    once = host.run("once")
    assert once.returncode == 1
    assert "zone 'orel' has no row in CONFIG" in once.stdout

    service = host.popen("run")
    try:
        wait_for(
            lambda: host.log().count("has no row in CONFIG") >= 3,
            what="two more failed cycles",
            proc=service,
        )
        assert service.poll() is None
    finally:
        service.send_signal(signal.SIGTERM)
    assert service.wait(timeout=30) == 0
    assert recording.exists()
    beat = Workstation.objects.get(host=host.name)
    # The zone it found, under the zone its database login serves (the heartbeat trigger).
    assert beat.zone_name == "orel" and beat.zone == storage.zone and beat.last_success is None


def test_check_reports_each_step(host, storage):
    result = host.run("check")

    assert result.returncode == 0, result.stdout + result.stderr
    steps = ["configuration", "workstation", "database", "zone", "zone row", "zone key"]
    steps += ["ssh key"]
    steps += ["PATH_SRC", "tools", "storage host key", "storage"]
    lines = result.stdout.splitlines()
    assert [line[5:].split("  ")[0] for line in lines] == steps, result.stdout
    assert all(line.startswith("OK ") for line in lines), result.stdout
    assert f"reachable as {host.account.user}@" in result.stdout
    assert "confined to uploads" in result.stdout

    storage.server.stop()
    result = host.run("check")

    assert result.returncode == 1
    assert any(
        line.startswith("FAIL storage") and "Connection refused" in line
        for line in result.stdout.splitlines()
    ), result.stdout


def test_an_unusable_configuration_is_one_line_and_exit_status_2(host):
    host.config_file.unlink()
    result = host.run("once")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"opvideo client: cannot read the client configuration {host.config_file}: No such file "
        "or directory (see client_agent/deploy/db.conf.example; OPVIDEO_CLIENT_CONFIG names "
        "another file)"
    ]

    host.config_file.write_text("LOG_LEVEL=INFO\n")
    result = host.run("status")
    assert result.returncode == 2
    assert "DATABASE_URL is not set in" in result.stderr

    host.config_file.write_text("DATABASE_URL mysql://x\n")
    assert "line 1: expected NAME=value" in host.run("check").stderr


def test_a_different_file_already_stored_under_the_name_is_never_replaced(host, storage):
    recording = host.record(1)
    squatter = storage.dst / "op101" / recording.name
    squatter.parent.mkdir()
    squatter.write_bytes(b"another recording")
    fine = host.record(2)

    result = host.run("once")

    # A collision is kept and reported; it is not the cycle's failure: the rest goes on.
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 delivered" in result.stdout and "1 kept as collisions" in result.stdout
    assert f"op101/{recording.name} on storage holds other content" in host.log()
    assert squatter.read_bytes() == b"another recording"  # not overwritten
    assert recording.exists()  # and the local one is kept
    assert not fine.exists()  # the rest of the batch went through
    assert list(Video.objects.values_list("file_name", flat=True)) == [f"op101/{fine.name}"]
    beat = Workstation.objects.get(host="op101")
    assert beat.collision_count == 1 and recording.name in beat.last_error
    status = host.run("status").stdout
    assert re.search(r"kept: other content on storage:\s+1\n", status), status
    assert recording.name in status


def test_status_names_the_oldest_finished_recording(host, storage):
    host.record(2, age=600)
    oldest = host.record(1, age=7200)
    storage.server.stop()
    host.run("once")

    status = host.run("status")

    assert "2 (2 finished, 0 still being written)" in status.stdout
    assert f"oldest finished: {oldest.name}, modified " in status.stdout
    assert "last error:" in status.stdout and "Connection refused" in status.stdout
