"""Issue 13, finding 3: the workstation trusts only the storage server host key pinned in
CONFIG. Against real sshd servers: the zone's own, and an impostor with another host key on
the zone's address that accepts the zone's key (its public half is no secret) and would
answer "up to date" to the verifying dry run."""

from __future__ import annotations

import contextlib

from client_agent.models import Workstation
from storage.models import Video
from tests.services.sshd import confined_sshd
from tests.services.tcp_proxy import tcp_proxy
from zones.models import Zone
from zones.services import zone_update


@contextlib.contextmanager
def impostor_at_the_zones_address(storage, workdir):
    """The zone's sshd goes away and another one, with its own host key, takes its port and
    accepts the zone's key into a directory of its own."""
    storage.server.stop()
    with confined_sshd(workdir=workdir, port=storage.server.port) as impostor:
        # The zone's line as the admin shows it, rooted at the impostor's own directory.
        elsewhere = Zone.objects.get(pk=storage.zone.pk)
        elsewhere.path_dst = str(impostor.dst)
        impostor.install(zone=elsewhere)
        assert impostor.host_key.split()[1] != storage.server.host_key.split()[1]
        yield impostor


def files_under(path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_an_impostor_with_another_host_key_gets_nothing_and_nothing_is_deleted(
    host, storage, tmp_path
):
    recordings = [host.record(n) for n in (1, 2)]

    with impostor_at_the_zones_address(storage, tmp_path / "impostor") as impostor:
        result = host.run("once")
        check = host.run("check")
        impostor_log = impostor.log.read_text()

    assert result.returncode == 1
    # Nothing reached the impostor: ssh stopped before authenticating, so before any data.
    assert files_under(impostor.dst) == []
    assert "Accepted publickey" not in impostor_log
    assert storage.stored() == {}
    # Nothing was deleted or registered.
    assert all(p.exists() for p in recordings)
    assert not Video.objects.exists()
    # Not retried (another attempt cannot cure it), and the message says what to do.
    assert "Host key verification failed" in host.transfer_log()
    assert host.transfer_log().count("send: exit code ") == 1
    beat = Workstation.objects.get(host="op101")
    for text in (result.stdout, beat.last_error):
        assert "did not show the host key pinned for zone kursk" in text, text
        assert "nothing was sent and nothing deleted" in text
        assert "manage.py zone_host_keys --zone kursk --fetch" in text
        assert "something else answers at that address" in text
        assert "ssh-keygen -R" not in text
    assert beat.last_success is None
    assert check.returncode == 1
    assert any(
        line.startswith("FAIL storage ") and "did not show the host key pinned" in line
        for line in check.stdout.splitlines()
    ), check.stdout
    assert list(host.key_dir.iterdir()) == []


def test_a_reinstalled_server_is_refused_until_its_new_key_is_pinned(host, storage, tmp_path):
    recording = host.record(1)

    with impostor_at_the_zones_address(storage, tmp_path / "reinstalled") as reinstalled:
        assert host.run("once").returncode == 1
        assert recording.exists()
        # The admin's step from the message: the server really was reinstalled.
        zone_update(zone=Zone.objects.get(pk=storage.zone.pk), host_keys=reinstalled.host_key)

        result = host.run("once")

        assert result.returncode == 0, result.stdout + result.stderr
        assert files_under(reinstalled.dst) == ["op101", f"op101/{recording.name}"]
    assert not recording.exists()


def test_the_pinned_key_of_the_real_server_lets_recordings_through(host, storage):
    recording = host.record(1)
    data = recording.read_bytes()
    # A workstation's earlier, accepted-on-first-use known_hosts plays no part any more.
    host.state_dir.mkdir(exist_ok=True)
    (host.state_dir / "known_hosts").write_text("garbage\n")

    result = host.run("once")

    assert result.returncode == 0, result.stdout + result.stderr
    assert storage.stored() == {f"op101/{recording.name}": data}
    pinned = Zone.objects.get(pk=storage.zone.pk).host_keys
    assert pinned.split() == storage.server.host_key.split()[:2]


def test_a_zone_without_a_pinned_key_makes_no_connection_and_check_names_the_step(host, storage):
    recording = host.record(1)
    with tcp_proxy(target=("127.0.0.1", storage.server.port)) as proxy:
        Zone.objects.filter(pk=storage.zone.pk).update(host_keys="", ssh_port=proxy.port)

        result = host.run("once")
        check = host.run("check")

        assert proxy.accepted == 0  # no ssh connection at all, not even to look
    assert result.returncode == 1
    assert recording.exists()
    assert storage.stored() == {}
    assert "exit code" not in host.transfer_log()
    beat = Workstation.objects.get(host="op101")
    for text in (result.stdout, beat.last_error):
        assert "no host key of the storage server 127.0.0.1 is pinned in CONFIG" in text, text
        assert "fetches the server's host keys on the zone's admin page" in text
        assert "manage.py zone_host_keys --zone kursk --fetch" in text
    assert check.returncode == 1
    lines = check.stdout.splitlines()
    assert lines[-1].startswith("FAIL storage host key"), check.stdout
    assert "zone_host_keys --zone kursk --fetch" in lines[-1]
    assert not any(line.startswith(("OK   storage ", "FAIL storage  ")) for line in lines)


def test_unusable_pinned_keys_are_named_and_nothing_is_sent(host, storage):
    recording = host.record(1)
    Zone.objects.filter(pk=storage.zone.pk).update(host_keys="ssh-ed25519 not-base64")

    result = host.run("once")

    assert result.returncode == 1
    assert recording.exists()
    assert "storage server host keys in CONFIG are not usable" in result.stdout
    assert "exit code" not in host.transfer_log()
