"""The service loop's schedule, its lock, and how ssh/rsync failures are read."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from client_agent.conf import AgentConfig, workstation_name
from client_agent.runner import (
    AlreadyRunning,
    cycle_offset,
    failure_pause,
    instance_lock,
    loop_run,
    next_slot,
)
from client_agent.services import CycleReport
from client_agent.transfer import RsyncRun, StorageLink, failure_classify, key_dirs_clean
from tests.factories import PLACEHOLDER_HOST_KEY
from zones import ssh_keys
from zones.models import Zone


def test_offsets_are_stable_and_spread_over_the_interval():
    hosts = [f"op{n:04d}" for n in range(2000)]
    offsets = [cycle_offset(workstation=h, interval=3600) for h in hosts]
    assert offsets == [cycle_offset(workstation=h, interval=3600) for h in hosts]
    assert all(0 <= o < 3600 for o in offsets)
    # Every ten-minute slice of the hour gets its share (about 333 each).
    per_slice = [sum(1 for o in offsets if s * 600 <= o < (s + 1) * 600) for s in range(6)]
    assert min(per_slice) > 250, per_slice


def test_the_next_slot_is_the_offset_into_the_next_interval():
    assert next_slot(now=1000.0, interval=3600, offset=100) == 3700
    assert next_slot(now=3700.0, interval=3600, offset=100) == 7300
    assert next_slot(now=50.0, interval=3600, offset=100) == 100


def test_failure_pauses_double_up_to_the_interval():
    pauses = [failure_pause(failures=n, first=300, interval=3600) for n in range(1, 8)]
    assert 240 <= pauses[0] <= 360
    assert 480 <= pauses[1] <= 720
    assert all(p <= 3600 * 1.2 for p in pauses)
    assert pauses[-1] >= 3600 * 0.8


def test_the_lock_admits_one_holder_and_names_it(tmp_path):
    lock = tmp_path / "state" / "client.lock"
    with instance_lock(path=lock, mode="run"):
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        second = instance_lock(path=lock, mode="once")
        with pytest.raises(AlreadyRunning, match=r"already running \(pid \d+, run"):
            second.__enter__()
    with instance_lock(path=lock, mode="once"):  # released with its holder
        pass


def test_the_loop_survives_failing_and_crashing_cycles(tmp_path, caplog):
    config = AgentConfig(workstation="op101", interval=0.05, failure_retry=0.01)
    stop = threading.Event()
    outcomes = iter(["crash", "fail", "ok", "stop"])

    def cycle():
        outcome = next(outcomes)
        if outcome == "crash":
            raise RuntimeError("a bug")
        if outcome == "stop":
            stop.set()
        report = CycleReport(workstation="op101", started_at=None)
        if outcome == "fail":
            report.errors.append("no zone")
        return report

    loop_run(config=config, cycle=cycle, stop=stop)

    assert "the cycle crashed; retrying" in caplog.text
    assert "RuntimeError: a bug" in caplog.text
    assert next(outcomes, None) is None  # every cycle ran


@pytest.mark.parametrize(
    ("name", "ok"),
    [("op101", True), ("OP-101.local", True), ("", True), ("op 101", False), ("../x", False)],
)
def test_workstation_names_must_be_one_directory_on_storage(name, ok):
    from django.core.exceptions import ImproperlyConfigured

    if ok:
        assert workstation_name(name)
    else:
        with pytest.raises(ImproperlyConfigured):
            workstation_name(name)


# --- ssh/rsync failures ----------------------------------------------------------------------


def zone() -> Zone:
    return Zone(
        name="kursk",
        server="storage.kursk.example.ru",
        ssh_user="opvideo",
        ssh_port=22,
        speed_kbps=3000,
        path_src="/home/oper/.videos",
        path_dst="/srv/video",
        ssh_private_key=ssh_keys.key_generate(),
        host_keys=PLACEHOLDER_HOST_KEY,
    )


@pytest.mark.parametrize(
    ("code", "output", "retryable", "partial", "says"),
    [
        (255, "ssh: connect to host x port 22: Connection refused\n", True, False, "refused"),
        (255, "ssh: connect to host x port 22: Connection timed out\n", True, False, "timed out"),
        (30, "[sender] io timeout after 600 seconds -- exiting\n", True, False, "io timeout"),
        (255, "root@x: Permission denied (publickey).\n", False, False, "authorized_keys line"),
        (255, "Host key verification failed.\n", False, False, "zone_host_keys --zone kursk"),
        (
            4,
            "pre-xfer exec returned failure (256):\n"
            "opvideo upload refused: --ignore-existing is required: a stored recording is "
            "never replaced\n"
            "rsync error: requested action not supported (code 4) at clientserver.c(1267)\n",
            False,
            False,
            "upload module refused the request",
        ),
        (
            5,
            "@ERROR: Unknown module 'opvideo'\n"
            "rsync error: error starting client-server protocol (code 5) at main.c(1954)\n",
            False,
            False,
            "bootstrap.sh",
        ),
        (
            12,
            "/usr/bin/rrsync error: option --partial-dir has been disabled on this server.\n"
            "rsync: connection unexpectedly closed (0 bytes received so far) [sender]\n",
            False,
            False,
            "old rrsync line",
        ),
        (
            23,
            'rsync: [sender] send_files failed to open "/a": Permission denied (13)\n',
            False,
            True,
            "failed to open",
        ),
    ],
)
def test_failures_are_explained_and_only_passing_ones_retried(
    code, output, retryable, partial, says
):
    failure = failure_classify(run=RsyncRun(returncode=code, output=output), zone=zone())
    assert (failure.retryable, failure.partial) == (retryable, partial)
    assert says in failure.reason


def test_the_key_lives_only_inside_the_session(tmp_path):
    config = AgentConfig(
        workstation="op101", state_dir=tmp_path / "state", key_dir=tmp_path / "run"
    )
    stale = config.key_dir / "key-left-by-a-killed-client"
    stale.mkdir(parents=True)
    (stale / "id").write_text("old key")
    the_zone = zone()
    # As an old row may hold it: CRLF line ends, no final newline. ssh gets one clean format.
    the_zone.ssh_private_key = the_zone.ssh_private_key.strip().replace("\n", "\r\n")
    fingerprint = ssh_keys.key_load(private_key=the_zone.ssh_private_key).fingerprint

    with (
        pytest.raises(RuntimeError, match="boom"),
        StorageLink(zone=the_zone, private_key=the_zone.ssh_private_key, config=config) as link,
    ):
        assert not stale.exists()  # cleaned before a new session starts
        key = link.key_path
        text = key.read_text()
        assert "\r" not in text and text.endswith("-----END OPENSSH PRIVATE KEY-----\n")
        assert ssh_keys.key_load(private_key=text).fingerprint == fingerprint
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
        command = link.rsync_command(list_file=key.parent / "list", dry_run=False)
        # rsync's daemon over ssh: the upload module, rooted at PATH_DST.
        assert command[-1] == "opvideo@storage.kursk.example.ru::opvideo/op101/"
        for required in ("--ignore-existing", "--omit-dir-times", "--times"):
            assert required in command
        assert "--bwlimit=3000" in command
        assert not any(arg.startswith(("--partial", "--inplace", "--append")) for arg in command)
        ssh = " ".join(link.ssh_command())
        for option in ("StrictHostKeyChecking=yes", "BatchMode=yes", "ConnectTimeout="):
            assert option in ssh
        assert "accept-new" not in ssh
        # The session's own known_hosts, from CONFIG, beside the key and gone with it.
        assert f"UserKnownHostsFile={link.known_hosts}" in ssh
        assert link.known_hosts.parent == key.parent
        assert link.known_hosts.read_text() == f"opvideo-storage {PLACEHOLDER_HOST_KEY}\n"
        assert "GlobalKnownHostsFile=/dev/null" in ssh and "HostKeyAlias=opvideo-storage" in ssh
        raise RuntimeError("boom")
    assert list(config.key_dir.iterdir()) == []


def test_key_dirs_clean_leaves_other_files_and_a_running_check(tmp_path):
    (tmp_path / "key-x").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "check-running").mkdir()
    (tmp_path / "check-killed").mkdir()
    os.utime(tmp_path / "check-killed", (0, 0))
    key_dirs_clean(key_dir=tmp_path)
    key_dirs_clean(key_dir=tmp_path / "missing")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["check-running", "other"]
