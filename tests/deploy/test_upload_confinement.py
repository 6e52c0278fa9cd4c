"""Issue 13, finding 2: what a workstation can do to the storage tree with its zone's key.

A storage server prepared for real by docker/storage/bootstrap.sh (a storage user, the
zone's line, the upload module), a real sshd reading that user's authorized_keys (and, the
worst case, accepting any environment variable a client sends), and an attacker holding the
zone's private key, as anyone with root on one workstation does. Each attack is tried both
ways an rsync client can reach the server, as a remote shell (``host:path``, what the old
rrsync line served) and as a daemon over ssh (``host::module/path``), and must be refused
or neutralised: the stored tree, modes, owners and times included, stays as it was.

Then the other side: the workstation client's own upload arrives with the module's modes and
the nginx from render_nginx_conf, its workers in the storage user's group, serves it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import secrets
import shlex
import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage.samples import sample_mp4_make
from tests.factories import unsaved_zone
from tests.services.nginx import nginx_for_zone
from tests.services.sshd import CLIENT_OPTIONS, host_public_key, sshd_server
from tests.storage.test_video_access import signed
from zones import ssh_keys
from zones.models import Zone

BOOTSTRAP = Path(__file__).resolve().parents[2] / "docker" / "storage" / "bootstrap.sh"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="bootstrap.sh creates users: root only")

# The options the workstation client sends (client_agent.transfer.rsync_command).
CLIENT = ["--times", "--omit-dir-times", "--ignore-existing", "--modify-window=1"]


@dataclass
class Host:
    user: str
    uid: int
    gid: int
    base: Path
    dst: Path
    zone: Zone
    identity: Path
    port: int
    workdir: Path

    @property
    def ssh(self) -> list[str]:
        return ["ssh", "-i", str(self.identity), "-p", str(self.port), *CLIENT_OPTIONS]

    def remotes(self, path: str) -> list[str]:
        """``path`` (relative to PATH_DST) as a remote shell and as the daemon module."""
        return [f"{self.user}@127.0.0.1:{path}", f"{self.user}@127.0.0.1::opvideo/{path}"]

    def rsync(
        self, *args: str, env: dict | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess:
        # An attacker's options can leave the two ends waiting for each other: give up.
        return run("rsync", "--timeout=20", "-e", shlex.join(self.ssh), *args, env=env, cwd=cwd)


def run(
    *args: str, env: dict | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        args,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


@pytest.fixture(scope="module")
def host(tmp_path_factory) -> Iterator[Host]:
    """A storage server as bootstrap.sh leaves it, and the zone's private key."""
    tag = secrets.token_hex(3)
    user = f"opu{tag}"
    base = Path(f"/srv/opvideo-test-{tag}")
    workdir = tmp_path_factory.mktemp("upload-confinement")
    zone = unsaved_zone(
        name=f"up-{tag}",
        server="127.0.0.1",
        ssh_user=user,
        path_dst=str(base / "video"),
        ssh_private_key=ssh_keys.key_generate(),
    )
    # The admin's line, only with the module's configuration under this test's directory.
    line = ssh_keys.authorized_keys_line(
        zone=zone, config_path=str(base / "etc" / "rsyncd-upload.conf")
    )
    try:
        made = subprocess.run(
            [str(BOOTSTRAP), "--user", user, "--line", line],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert made.returncode == 0, made.stderr
        identity = workdir / "zone_key"
        identity.write_text(zone.ssh_private_key)
        identity.chmod(0o600)
        account = pwd.getpwnam(user)
        with sshd_server(workdir / "sshd", extra_config="AcceptEnv *\n") as sshd:
            yield Host(
                user=user,
                uid=account.pw_uid,
                gid=account.pw_gid,
                base=base,
                dst=base / "video",
                zone=zone,
                identity=identity,
                port=sshd.port,
                workdir=workdir,
            )
    finally:
        subprocess.run(["userdel", "--remove", user], capture_output=True, check=False)
        subprocess.run(["groupdel", user], capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)


def snapshot(root: Path) -> dict[str, tuple]:
    """Everything under ``root`` and ``root`` itself: type, mode, owner, times, content."""
    entries = {}
    for path in [root, *sorted(root.rglob("*"))]:
        st = path.lstat()
        if stat.S_ISREG(st.st_mode):
            what = hashlib.sha256(path.read_bytes()).hexdigest()
        elif stat.S_ISLNK(st.st_mode):
            what = os.readlink(path)
        else:
            what = ""
        entries[str(path.relative_to(root))] = (
            stat.S_IFMT(st.st_mode),
            stat.S_IMODE(st.st_mode),
            st.st_uid,
            st.st_gid,
            st.st_mtime_ns,
            what,
        )
    return entries


@pytest.fixture
def tree(host) -> dict[str, tuple]:
    """PATH_DST holding two workstations' recordings, as uploads leave them; its snapshot."""
    for child in host.dst.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    for name, data in (("op101/a.mp4", b"first recording"), ("op102/c.mp4", b"other ws")):
        path = host.dst / name
        path.parent.mkdir(mode=0o750, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o640)
        os.utime(path, (1_600_000_000, 1_600_000_000))
        for made in (path, path.parent):
            os.chown(made, host.uid, host.gid)
        os.utime(path.parent, (1_600_000_000, 1_600_000_000))
    # As bootstrap.sh leaves it, whatever an earlier test's attack managed.
    os.chown(host.dst, host.uid, host.gid)
    host.dst.chmod(0o750)
    return snapshot(host.dst)


@pytest.fixture
def src(tmp_path) -> Path:
    """The attacker's files: an empty directory to fill (tmp_path is root's alone: the
    attacker is root on the workstation)."""
    path = tmp_path / "src"
    path.mkdir()
    return path


def assert_unchanged(host: Host, before: dict, results: list[subprocess.CompletedProcess]):
    after = snapshot(host.dst)
    changed = [
        f"{key}: {before.get(key)} -> {after.get(key)}"
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    ]
    assert not changed, "\n".join(changed + [r.stdout + r.stderr for r in results])


# --- modes: finding 2's 0777 PATH_DST, 0555 neighbour, setuid file -----------------------------


def test_path_dst_cannot_be_opened_to_everybody(host, tree, src):
    src.chmod(0o777)
    results = []
    for remote in host.remotes(""):
        results.append(host.rsync("-d", "-p", "--omit-dir-times", f"{src}/", remote))
        results.append(host.rsync("-r", "-p", "-t", f"{src}/", remote))
        results.append(host.rsync("-d", "--chmod=D0777", f"{src}/", remote))
    assert_unchanged(host, tree, results)
    assert stat.S_IMODE(host.dst.stat().st_mode) == 0o750


def test_another_workstations_directory_cannot_be_closed(host, tree, src):
    # The directory of op102 as the attacker would like it: 0555, and its time moved.
    (src / "op102").mkdir(mode=0o555)
    os.utime(src / "op102", (0, 0))
    files_from = src.parent / "dot"
    files_from.write_text(".\n")
    results = []
    for remote in host.remotes(""):
        results.append(host.rsync("-r", "-p", "-t", f"{src}/", remote))
        results.append(host.rsync("-d", "-p", "--omit-dir-times", f"{src}/", remote))
    for remote in host.remotes("op102/"):
        # Without --perms: "." of the transfer is op102 itself, given the module's mode.
        for extra in ([], ["-M--perms"], ["--chmod=D0555"], ["-p"]):
            results.append(
                host.rsync(*CLIENT, *extra, f"--files-from={files_from}", f"{src}/op102/", remote)
            )
        # Its time: only a request without --omit-dir-times would set it.
        results.append(
            host.rsync("--times", "--ignore-existing", f"--files-from={files_from}",
                       f"{src}/op102/", remote)
        )  # fmt: skip
        results.append(
            host.rsync(*CLIENT, "-M--no-omit-dir-times", f"--files-from={files_from}",
                       f"{src}/op102/", remote)
        )  # fmt: skip
    assert_unchanged(host, tree, results)
    # op102's next upload still works.
    (src / "d.mp4").write_bytes(b"next")
    sent = host.rsync(*CLIENT, str(src / "d.mp4"), host.remotes("op102/")[1])
    assert sent.returncode == 0, sent.stderr
    assert (host.dst / "op102" / "d.mp4").read_bytes() == b"next"


def test_an_uploaded_file_is_never_setuid_executable_or_writable_by_others(host, tree, src):
    payload = src / "x.mp4"
    payload.write_bytes(b"#!/bin/sh\nid\n")
    payload.chmod(0o6777)
    stored = host.dst / "op101" / "x.mp4"
    arrived = []
    for remote in host.remotes("op101/"):
        for extra in ([], ["--chmod=F6777"], ["-p"], ["-M--perms"], ["--executability"]):
            result = host.rsync(*CLIENT, *extra, str(payload), remote)
            if stored.exists():
                st = stored.stat()
                mode = (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
                assert mode == (0o640, host.uid, host.gid), result.args
                arrived.append(extra)
                stored.unlink()
    # Only the plain request got through (and the file was given the module's mode).
    assert arrived == [[], ["--chmod=F6777"]]


# --- links, devices, FIFOs ---------------------------------------------------------------------


def test_no_symbolic_link_device_or_fifo_arrives(host, tree, src):
    (src / "abs.mp4").symlink_to("/etc/shadow")
    (src / "rel.mp4").symlink_to("../../../../etc/passwd")
    (src / "up.mp4").symlink_to("../op102/c.mp4")
    os.mkfifo(src / "pipe.mp4")
    os.mknod(src / "null.mp4", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    results = []
    for remote in host.remotes("op101/"):
        for extra in (["-l"], ["-M--links"], ["--specials"], ["--devices"], ["-D"], ["-M-D"], []):
            results.append(host.rsync(*CLIENT, "-d", *extra, f"{src}/", remote))
        names = src.parent / "names"
        names.write_text("abs.mp4\nrel.mp4\nup.mp4\npipe.mp4\nnull.mp4\n")
        for extra in (["-l"], ["-D"], []):
            results.append(host.rsync(*CLIENT, *extra, f"--files-from={names}", f"{src}/", remote))
    assert_unchanged(host, tree, results)


# --- never replace, never touch what exists ----------------------------------------------------


def test_a_stored_recording_is_never_replaced_or_retimed(host, tree, src):
    other = src / "a.mp4"
    other.write_bytes(b"forged recording")
    os.utime(other, (1_700_000_000, 1_700_000_000))
    results = []
    for remote in host.remotes("op101/"):
        for options in (
            ["--times", "--omit-dir-times"],  # no --ignore-existing
            ["--times", "--omit-dir-times", "-I"],  # --ignore-times
            # rsync's parser takes the token after --log-format as its value: this asks for
            # no --ignore-existing at all.
            ["--times", "--omit-dir-times", "-M--log-format", "-M--ignore-existing"],
            ["--times", "--omit-dir-times", "-M--timeout", "-M--ignore-existing"],
            [*CLIENT, "--inplace"],
            [*CLIENT, "--append"],
            [*CLIENT, "--partial-dir=.p"],
            [*CLIENT, "--backup", "--suffix=.old"],
            [*CLIENT, "--temp-dir=/tmp"],
            [*CLIENT, "-M--ignore-times"],
            [*CLIENT],  # what the client sends: skipped, not replaced
        ):
            results.append(host.rsync(*options, str(other), remote))
    assert_unchanged(host, tree, results)
    assert (host.dst / "op101" / "a.mp4").read_bytes() == b"first recording"


def test_the_check_cannot_be_switched_off_through_the_environment(host, tree, src):
    # The sshd here accepts any variable the client sends (AcceptEnv *): the line's env -i
    # keeps RSYNC_NO_XFER_EXEC away from rsync, which would skip the pre-transfer check.
    forged = src / "a.mp4"
    forged.write_bytes(b"forged recording")
    env = {**os.environ, "RSYNC_NO_XFER_EXEC": "1", "RSYNC_SHELL": "/bin/true"}
    ssh = shlex.join([*host.ssh, "-o", "SendEnv=RSYNC_*"])
    results = [
        run("rsync", "-e", ssh, "--times", "--omit-dir-times", str(forged), remote, env=env)
        for remote in host.remotes("op101/")
    ]
    assert_unchanged(host, tree, results)
    assert any("--ignore-existing is required" in r.stdout + r.stderr for r in results)


def test_nothing_is_deleted(host, tree, src):
    results = []
    for remote in host.remotes("op101/"):
        for options in (["--delete"], ["--delete-after"], ["--delete-excluded"], ["-M--delete"]):
            results.append(host.rsync(*CLIENT, "-d", *options, f"{src}/", remote))
        missing = src.parent / "missing"
        missing.write_text("a.mp4\n")
        results.append(
            host.rsync(*CLIENT, "--delete-missing-args", f"--files-from={missing}", f"{src}/",
                       remote)
        )  # fmt: skip
    assert_unchanged(host, tree, results)


# --- the shape of the tree: one directory per workstation, plain files in it -------------------


def test_uploads_land_only_in_one_directory_below_path_dst(host, tree, src):
    (src / "sub").mkdir()
    (src / "sub" / "deep.mp4").write_bytes(b"deep")
    (src / "top.mp4").write_bytes(b"top")
    names = src.parent / "deep"
    names.write_text("sub/deep.mp4\n")
    results = []
    for remote in host.remotes(""):
        results.append(host.rsync(*CLIENT, str(src / "top.mp4"), remote))  # beside the dirs
        results.append(host.rsync(*CLIENT, str(src / "top.mp4"), remote + "top.mp4"))
    for remote in host.remotes("op101/"):
        results.append(host.rsync(*CLIENT, f"--files-from={names}", f"{src}/", remote))
        results.append(host.rsync(*CLIENT, "-R", "sub/deep.mp4", remote, cwd=src))
    for remote in host.remotes("op101/x/"):
        results.append(host.rsync(*CLIENT, str(src / "top.mp4"), remote))
    assert_unchanged(host, tree, results)


def test_the_previews_tree_cannot_be_written_or_replaced(host, tree, src):
    # PATH_DST/.previews as the zone worker leaves it: a recording's poster, sprite, index.
    previews = host.dst / ".previews" / "op101" / "a.mp4"
    previews.mkdir(parents=True, mode=0o750)
    for part in ("poster.jpg", "sprite.jpg", "thumbs.vtt"):
        (previews / part).write_bytes(b"the worker's " + part.encode())
    for path in [*previews.parents[:3], *previews.rglob("*"), previews]:
        if host.dst in path.parents:
            os.chown(path, host.uid, host.gid)
    before = snapshot(host.dst)
    # What an attacker would put there: a poster of their own, a page, a new tree.
    (src / ".previews" / "op101" / "a.mp4").mkdir(parents=True)
    forged = src / ".previews" / "op101" / "a.mp4" / "poster.jpg"
    forged.write_bytes(b"forged poster")
    (src / "poster.jpg").write_bytes(b"forged poster")
    (src / "x.mp4").write_bytes(b"forged")
    results = []
    for path in (".previews/", ".previews/op101/", ".previews/op101/a.mp4/", ".p/", ".x/"):
        for remote in host.remotes(path):
            results.append(host.rsync(*CLIENT, str(src / "poster.jpg"), remote))
            results.append(host.rsync(*CLIENT, str(src / "x.mp4"), remote))
    for remote in host.remotes(""):
        # The tree's own path, relative: it would land at the top, hidden.
        results.append(
            host.rsync(*CLIENT, "-R", ".previews/op101/a.mp4/poster.jpg", remote, cwd=src)
        )
        results.append(host.rsync(*CLIENT, "-r", f"{src}/", remote))
    for remote in host.remotes("op101/"):
        results.append(
            host.rsync(*CLIENT, "-R", ".previews/op101/a.mp4/poster.jpg", remote, cwd=src)
        )
    for remote in host.remotes("op101/../.previews/"):
        results.append(host.rsync(*CLIENT, str(src / "poster.jpg"), remote))
    assert_unchanged(host, before, results)
    assert (previews / "poster.jpg").read_bytes() == b"the worker's poster.jpg"
    said = "\n".join(r.stdout + r.stderr for r in results)
    assert "the destination must not be hidden" in said


def test_nothing_lands_outside_path_dst(host, tree, src):
    name = f"escaped-{secrets.token_hex(4)}.mp4"
    (src / name).write_bytes(b"out")
    for path in ("../", "../../", "/tmp/", "op101/../../", "op101/../../../tmp/"):
        for remote in host.remotes(path):
            host.rsync(*CLIENT, str(src / name), remote)
    # rsync resolves the ".." within the module: whatever arrived is inside PATH_DST, one
    # directory down, with the module's modes (and the stored recordings are untouched).
    found = [p for p in (host.base, Path("/tmp"), Path("/")) if (p / name).exists()]
    assert found == []
    arrived = list(host.dst.rglob(name))
    for path in arrived:
        assert len(path.relative_to(host.dst).parts) == 2
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o750
    after = snapshot(host.dst)
    assert {k: v for k, v in after.items() if k in tree and k != "."} == {
        k: v for k, v in tree.items() if k != "."
    }


# --- reading and running things ----------------------------------------------------------------


def test_nothing_can_be_read_or_listed(host, tree, tmp_path):
    back = tmp_path / "back"
    back.mkdir()
    results = []
    for path in ("op101/a.mp4", "op101/", "", "../etc/passwd"):
        for remote in host.remotes(path):
            results.append(host.rsync("-r", remote, str(back)))
            results.append(host.rsync("--list-only", remote))
    results.append(host.rsync("--list-only", f"{host.user}@127.0.0.1::"))
    assert list(back.iterdir()) == []
    for result in results:
        assert "a.mp4" not in result.stdout
        assert not any(line.startswith("opvideo") for line in result.stdout.splitlines())
    assert_unchanged(host, tree, results)


def test_no_command_runs_but_the_daemon(host, tree, tmp_path):
    marker = Path(f"/tmp/opvideo-ran-{secrets.token_hex(4)}")
    target = f"{host.user}@127.0.0.1"
    results = [
        run(*host.ssh, target, "id"),
        run(*host.ssh, target, f"touch {marker}"),
        run(*host.ssh, target, "rsync --server -vlogDtpre.iLsfxCIvu . /tmp"),
        run(*host.ssh, "-tt", target, "sh"),
        # An rsync told to start something else on the server.
        host.rsync("--rsync-path", f"touch {marker}; rsync", str(tmp_path), f"{target}:"),
        host.rsync(
            "--rsync-path", f"touch {marker}; rsync", str(tmp_path), f"{target}::opvideo/op101/"
        ),
    ]
    for result in results:
        assert "uid=" not in result.stdout
    assert not marker.exists()
    with contextlib.suppress(FileNotFoundError):
        marker.unlink()
    assert_unchanged(host, tree, results)


# --- the workstation client's own upload -------------------------------------------------------


def test_the_clients_upload_arrives_with_fixed_modes_and_nginx_serves_it(host, tree, tmp_path):
    from client_agent.conf import AgentConfig
    from client_agent.transfer import StorageLink

    path_src = tmp_path / "videos"
    path_src.mkdir()
    recording = path_src / "node_0_domain_0_nauss_0_1629126106_172352.mp4"
    sample_mp4_make(path=recording, seconds=2)
    recording.chmod(0o4755)  # whatever the recorder left, storage decides the mode
    zone = unsaved_zone(
        name=host.zone.name,
        server="127.0.0.1",
        ssh_port=host.port,
        ssh_user=host.user,
        ssh_private_key=host.zone.ssh_private_key,
        # The client talks only to the server showing the pinned host key.
        host_keys=host_public_key(host.workdir / "sshd"),
        path_src=str(path_src),
        path_dst=str(host.dst),
        public_address="127.0.0.1",
    )
    config = AgentConfig(
        workstation="op103", state_dir=tmp_path / "state", key_dir=tmp_path / "run"
    )
    taken = path_src / "node_0_domain_0_nauss_0_1629126107_172352.mp4"
    taken.write_bytes(b"this workstation's bytes")
    on_storage = host.dst / "op103" / taken.name
    # The web side's key: what the client unseals from CLIENT_ZONE_KEY is this same key.
    with StorageLink(zone=zone, private_key=zone.ssh_private_key, config=config) as link:
        sent = link.send(names=[recording.name])
        assert sent.failure is None, sent.failure
        assert sent.attempted == {recording.name}
        # Verification through the module: by size and time, and by content.
        assert link.verify(names=[recording.name]).delivered == [recording.name]
        by_content = link.verify(names=[recording.name], by_content=True)
        assert by_content.delivered == [recording.name]
        # A name taken on storage by other bytes (same size) is a collision, and stays so.
        on_storage.write_bytes(b"another station's bytes!")
        os.chown(on_storage, host.uid, host.gid)
        assert link.send(names=[taken.name]).attempted == frozenset()
        assert link.verify(names=[taken.name], by_content=True).different == [taken.name]
        assert on_storage.read_bytes() == b"another station's bytes!"

    stored = host.dst / "op103" / recording.name
    assert stored.read_bytes() == recording.read_bytes()
    for path, mode in ((host.dst, 0o750), (stored.parent, 0o750), (stored, 0o640)):
        st = path.stat()
        assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (mode, host.uid, host.gid)
    assert stored.stat().st_mtime == pytest.approx(recording.stat().st_mtime, abs=1)

    # nginx outside Docker, as render_nginx_conf makes it: workers www-data, group the user's.
    uri = f"/op103/{recording.name}"
    with nginx_for_zone(
        zone=zone, workdir=tmp_path / "nginx", worker_user="www-data", worker_group=host.user
    ) as nginx:
        status, body = http_get(nginx.port, signed(uri))
        assert (status, body) == (200, recording.read_bytes())
    # Without the group (what render_nginx_conf gave before): Permission denied, 403.
    with nginx_for_zone(
        zone=zone, workdir=tmp_path / "nginx-nobody", worker_user="www-data",
        worker_group="www-data",
    ) as nginx:  # fmt: skip
        status, body = http_get(nginx.port, signed(uri))
        # try_files cannot see the file: "not found".
        assert status == 404 and body != recording.read_bytes()


def http_get(port: int, path: str) -> tuple[int, bytes]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()
