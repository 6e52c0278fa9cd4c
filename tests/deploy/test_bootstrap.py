"""docker/storage/bootstrap.sh, run for real as root on this machine: it makes the zone's
user and PATH_DST, writes the upload module, installs the zone's line from
`manage.py zone_authorized_key`, and then a real sshd + rsync with the zone's key can add
recordings to PATH_DST and do nothing else (tests/deploy/test_upload_confinement.py tries
every attack). Run again, it changes nothing. Every user and directory it makes is removed
afterwards."""

import os
import pwd
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import REPO, manage, subprocess_db_env
from tests.services.sshd import sshd_server
from zones import ssh_keys
from zones.models import Zone
from zones.services import KeyAction, zone_create, zone_update

BOOTSTRAP = REPO / "docker" / "storage" / "bootstrap.sh"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="bootstrap.sh creates users: root only")

# What the workstation client asks for (client_agent.transfer.rsync_command).
UPLOAD = ["--times", "--omit-dir-times", "--ignore-existing"]


def bootstrap(*args: str, line: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BOOTSTRAP), *args],
        input=line,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def changes(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("changed: ")]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def storage_names():
    """Unique names for the user and the directories, removed whatever happens."""
    tag = secrets.token_hex(3)
    user = f"opv{tag}"
    base = Path(f"/srv/opvideo-test-{tag}")
    try:
        yield user, base
    finally:
        subprocess.run(["userdel", "--remove", user], capture_output=True, check=False)
        subprocess.run(["groupdel", user], capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def zone(storage_names):
    user, base = storage_names
    return zone_create(
        name=f"boot-{user[3:]}",
        server="127.0.0.1",
        ssh_user=user,
        speed_kbps=3000,
        path_src="/home/oper/.videos/",
        path_dst=str(base / "video"),
        file_extension="mp4",
        public_address="127.0.0.1",
        public_port=88,
    )


def module_config(zone: Zone) -> Path:
    """The upload module's configuration: under the test's directory, not in /etc."""
    return Path(zone.path_dst).parent / "etc" / "rsyncd-upload.conf"


def zone_line(zone: Zone) -> str:
    return manage(
        "zone_authorized_key", "--zone", zone.name, "--config", str(module_config(zone)),
        env=subprocess_db_env(),
    ).stdout  # fmt: skip


def identity_file(zone: Zone, directory: Path, name: str = "zone_key") -> Path:
    path = directory / name
    path.write_text(Zone.objects.get(pk=zone.pk).ssh_private_key)
    path.chmod(0o600)
    return path


@pytest.mark.django_db(transaction=True)
def test_bootstrap_prepares_a_bare_host_and_the_key_can_only_add_recordings(
    zone, storage_names, tmp_path
):
    user, base = storage_names
    dst = base / "video"
    line = zone_line(zone)

    first = bootstrap("--user", user, "--line-file", "-", line=line)
    assert first.returncode == 0, first.stderr
    made = changes(first)
    config = module_config(zone)
    check = config.with_name("rsyncd-upload-check")
    assert f"changed: wrote {config}" in made
    assert f"changed: wrote {check}" in made
    assert f"changed: created user {user} (key login only)" in made
    assert f"changed: created {dst}" in made
    assert (
        f"changed: added the key line of zone {zone.name} to /home/{user}/.ssh/authorized_keys"
        in made
    )

    account = pwd.getpwnam(user)
    ssh_dir = Path(account.pw_dir) / ".ssh"
    keys = ssh_dir / "authorized_keys"
    for path, mode in ((ssh_dir, 0o700), (keys, 0o600), (dst, 0o750)):
        st = path.stat()
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (account.pw_uid, account.pw_gid, mode)
    # The module is root's: the storage user cannot loosen what its key may do.
    for path, mode in ((config.parent, 0o755), (config, 0o644), (check, 0o755)):
        st = path.stat()
        assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (0, 0, mode)
    assert f"[{ssh_keys.UPLOAD_MODULE}]" in config.read_text()
    assert f"pre-xfer exec = {check}" in config.read_text()
    assert keys.read_text() == line
    ids = f"{account.pw_uid}:{account.pw_gid}"
    assert f"--zone {zone.name} --user {ids}" in first.stdout

    # Run twice: nothing to change, nothing touched.
    before = keys.stat()
    second = bootstrap("--user", user, "--line", line.strip())
    assert second.returncode == 0, second.stderr
    assert changes(second) == []
    assert "nothing to change" in second.stdout
    assert (keys.stat().st_ino, keys.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)

    with sshd_server(tmp_path / "sshd", extra_config=f"AllowUsers {user}\n") as sshd:
        ssh = sshd.ssh_command(identity_file(zone, tmp_path))
        remote = f"{user}@127.0.0.1::opvideo/op101/"
        recording = tmp_path / "node_0_domain_0_nauss_0_1629126106_172352.mp4"
        recording.write_bytes(b"recording")
        recording.chmod(0o755)

        sent = run("rsync", *UPLOAD, "-e", ssh, str(recording), remote)
        assert sent.returncode == 0, sent.stderr + (sshd.workdir / "sshd.log").read_text()
        stored = dst / "op101" / recording.name
        assert stored.read_bytes() == b"recording"
        # The worker (same user) can delete it; the group reads it; nobody else does.
        for path, mode in ((stored, 0o640), (stored.parent, 0o750)):
            st = path.stat()
            assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (
                account.pw_uid, account.pw_gid, mode,
            )  # fmt: skip

        # Not even its own recordings can be read back, nor anything else.
        for source in (f"{remote}{recording.name}", f"{user}@127.0.0.1:/etc/passwd"):
            back = tmp_path / "back"
            fetched = run("rsync", "-e", ssh, source, str(back))
            assert fetched.returncode != 0
            assert not back.exists()

        # Nothing lands outside PATH_DST, whatever path is asked for.
        secret_name = f"escaped-{secrets.token_hex(4)}.mp4"
        for target in (
            f"{user}@127.0.0.1::opvideo/../{secret_name}",
            f"{user}@127.0.0.1:/tmp/{secret_name}",
            f"{user}@127.0.0.1::opvideo/../../tmp/",
        ):
            run("rsync", *UPLOAD, "-e", ssh, str(recording), target)
        assert not (base / secret_name).exists()
        assert not Path("/tmp", secret_name).exists()
        assert {p for p in base.rglob("*") if p.name == secret_name} <= {
            p for p in dst.rglob("*") if p.name == secret_name
        }

        # No shell.
        shell = run(*ssh.split(), f"{user}@127.0.0.1", "id")
        assert shell.returncode != 0
        assert "uid=" not in shell.stdout


@pytest.mark.django_db(transaction=True)
def test_a_new_zone_key_replaces_the_old_line(zone, storage_names, tmp_path):
    user, _ = storage_names
    assert bootstrap("--user", user, "--line", zone_line(zone)).returncode == 0
    old_identity = identity_file(zone, tmp_path, "old_key")

    zone_update(zone=zone, key_action=KeyAction.ED25519)
    new_line = zone_line(zone)
    again = bootstrap("--user", user, "--line", new_line)
    assert again.returncode == 0, again.stderr
    assert changes(again) == [
        f"changed: replaced 1 older key line(s) of zone {zone.name} in "
        f"/home/{user}/.ssh/authorized_keys"
    ]
    keys = Path(pwd.getpwnam(user).pw_dir, ".ssh", "authorized_keys")
    assert keys.read_text() == new_line

    with sshd_server(tmp_path / "sshd") as sshd:
        recording = tmp_path / "a.mp4"
        recording.write_text("a")
        remote = f"{user}@127.0.0.1::opvideo/op101/"
        old = run("rsync", *UPLOAD, "-e", sshd.ssh_command(old_identity), str(recording), remote)
        assert old.returncode != 0
        new = run(
            "rsync", *UPLOAD, "-e", sshd.ssh_command(identity_file(zone, tmp_path)),
            str(recording), remote,
        )  # fmt: skip
        assert new.returncode == 0, new.stderr


@pytest.mark.django_db(transaction=True)
def test_a_second_run_puts_back_the_module_and_repairs_what_the_old_line_let_through(
    zone, storage_names
):
    user, base = storage_names
    dst = base / "video"
    line = zone_line(zone)
    assert bootstrap("--user", user, "--line", line).returncode == 0, "first run"
    account = pwd.getpwnam(user)
    config = module_config(zone)
    good = config.read_text()
    config.write_text(good.replace("write only = yes", "write only = no"))
    config.chmod(0o666)
    # What finding 2's attacks left behind through the old rrsync line, and an older
    # upload's ordinary modes (755/644), which stay.
    for name, mode in (("op101", 0o777), ("op102", 0o555), ("legacy", 0o755)):
        (dst / name).mkdir()
        (dst / name).chmod(mode)
    made = {"op101/setuid.mp4": 0o4755, "op101/open.mp4": 0o666, "legacy/old.mp4": 0o644}
    for name, mode in made.items():
        (dst / name).write_bytes(b"x")
        (dst / name).chmod(mode)
    (dst / "op101" / "link.mp4").symlink_to("/etc/shadow")
    for path in dst.rglob("*"):
        os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)
    dst.chmod(0o777)

    again = bootstrap("--user", user, "--line", line)
    assert again.returncode == 0, again.stderr
    assert changes(again) == [
        f"changed: rewrote {config} as bootstrap.sh makes it",
        f"changed: mode of {dst} set to 750",
        f"changed: gave 2 directories under {dst} the mode 750",
        f"changed: gave 2 files under {dst} the mode 640",
    ]
    assert config.read_text() == good
    assert config.stat().st_mode & 0o777 == 0o644
    modes = {str(p.relative_to(dst)): p.lstat().st_mode & 0o7777 for p in dst.rglob("*")}
    assert {k: v for k, v in modes.items() if k != "op101/link.mp4"} == {
        "op101": 0o750,
        "op102": 0o750,
        "legacy": 0o755,
        "op101/setuid.mp4": 0o640,
        "op101/open.mp4": 0o640,
        "legacy/old.mp4": 0o644,
    }
    # A link is reported for a person to look at, never followed or deleted.
    assert (dst / "op101" / "link.mp4").is_symlink()
    assert "symbolic links, devices or FIFOs" in again.stderr


@pytest.mark.django_db(transaction=True)
def test_module_only_writes_the_module_and_nothing_else(zone, storage_names):
    user, base = storage_names
    only = bootstrap("--module-only", "--line", zone_line(zone))
    assert only.returncode == 0, only.stderr
    config = module_config(zone)
    assert sorted(p.name for p in config.parent.iterdir()) == [
        "rsyncd-upload-check",
        "rsyncd-upload.conf",
    ]
    assert not (base / "video").exists()
    with pytest.raises(KeyError):
        pwd.getpwnam(user)
    again = bootstrap("--module-only", "--line", zone_line(zone))
    assert changes(again) == []


@pytest.mark.django_db(transaction=True)
def test_bootstrap_says_whether_nginx_can_reach_path_dst(zone, storage_names):
    user, base = storage_names
    line = zone_line(zone)
    first = bootstrap("--user", user, "--line", line)
    assert first.returncode == 0, first.stderr
    # The workers get the storage user's group (render_nginx_conf --group): they read.
    assert "nginx's workers" not in first.stderr
    assert f"render_nginx_conf --zone {zone.name} --user www-data --group {user}" in first.stdout
    # A parent only the storage user gets through: uploads work, nginx would answer 404.
    account = pwd.getpwnam(user)
    os.chown(base, account.pw_uid, account.pw_gid)
    base.chmod(0o700)
    again = bootstrap("--user", user, "--line", line)
    assert again.returncode == 0, again.stderr
    assert f"nginx's workers (www-data, group {user}) cannot read {base / 'video'}" in again.stderr
    missing = bootstrap("--user", user, "--line", line, "--nginx-user", "nosuchuser")
    assert missing.returncode == 2 and "--nginx-user nosuchuser: no such user" in missing.stderr


def test_bootstrap_refuses_an_unconfined_key_and_changes_nothing(storage_names, tmp_path):
    user, base = storage_names
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True
    )
    bare = (tmp_path / "k.pub").read_text().strip()
    key = " ".join(bare.split()[:2])
    other_command = (
        'restrict,command="umask 027; exec /usr/bin/env -i /bin/sh --server --daemon '
        f'--config=/etc/opvideo/rsyncd-upload.conf --dparam=path={base} ." {key} opvideo-kursk'
    )
    old_rrsync = (
        f'restrict,command="/usr/bin/rrsync -wo -no-del -no-lock -no-overwrite {base}" '
        f"{key} opvideo-kursk"
    )
    for line in (bare, other_command, old_rrsync, f"{bare}\n{bare}"):
        refused = bootstrap("--user", user, "--line", line)
        assert refused.returncode == 2
        assert (
            "refusing" in refused.stderr
            or "one line" in refused.stderr
            or "old rrsync line" in refused.stderr
        )
        assert changes(refused) == []
    with pytest.raises(KeyError):
        pwd.getpwnam(user)
    assert not base.exists()


@pytest.mark.django_db(transaction=True)
def test_dry_run_says_what_it_would_do_and_does_nothing(zone, storage_names):
    user, base = storage_names
    dry = bootstrap("--user", user, "--line", zone_line(zone), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would change: created user {user} (key login only)" in dry.stdout
    assert "dry run: nothing changed" in dry.stdout
    with pytest.raises(KeyError):
        pwd.getpwnam(user)
    assert not base.exists()


@pytest.mark.django_db(transaction=True)
def test_path_dst_must_match_when_given(zone, storage_names):
    user, base = storage_names
    wrong = bootstrap("--user", user, "--line", zone_line(zone), "--path-dst", "/srv/elsewhere")
    assert wrong.returncode == 2
    assert f"confines the key to {base / 'video'}, not to /srv/elsewhere" in wrong.stderr


def test_bootstrap_wants_root(tmp_path):
    as_nobody = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            str(BOOTSTRAP),
            "--user",
            "x",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert as_nobody.returncode == 2
    assert "run me as root" in as_nobody.stderr
