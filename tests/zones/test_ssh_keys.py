"""zones.ssh_keys against OpenSSH itself: ssh-keygen is the reference for every derived value."""

import getpass
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from tests.services import sshd
from tests.zones.conftest import (
    keygen_file,
    keygen_fingerprint,
    keygen_public,
    ssh_keygen,
    write_private,
)
from zones import ssh_keys
from zones.models import Zone


@pytest.mark.parametrize(
    ("key_type", "bits", "algorithm"), [("ed25519", 256, "ED25519"), ("rsa", 4096, "RSA")]
)
def test_generated_key_agrees_with_ssh_keygen(tmp_path, key_type, bits, algorithm):
    text = ssh_keys.key_generate(key_type=key_type)
    assert text.startswith("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    key = ssh_keys.key_load(private_key=text)
    path = write_private(tmp_path, "id", text)

    assert key.public_line() == keygen_public(path)
    assert (key.bits, key.fingerprint, key.algorithm) == keygen_fingerprint(path)
    assert key.public_line(comment="opvideo-kursk") == f"{keygen_public(path)} opvideo-kursk"


def test_generated_keys_differ():
    first, second = (ssh_keys.key_generate() for _ in range(2))
    assert ssh_keys.key_load(private_key=first).fingerprint != (
        ssh_keys.key_load(private_key=second).fingerprint
    )


def test_unknown_key_type_is_refused():
    with pytest.raises(ValueError, match="unknown key type"):
        ssh_keys.key_generate(key_type="dsa")


def test_private_key_is_not_in_repr():
    key = ssh_keys.key_load(private_key=ssh_keys.key_generate())
    assert "PRIVATE" not in repr(key)
    assert key.private_openssh.split("\n")[1] not in repr(key)


@pytest.mark.parametrize(
    ("key_type", "bits", "fmt"),
    [
        ("ed25519", 0, ""),  # OpenSSH format, what ssh-keygen writes today
        ("rsa", 3072, ""),
        ("rsa", 2048, "PEM"),  # -----BEGIN RSA PRIVATE KEY----- (the old README's ssh-keygen)
        ("rsa", 2048, "PKCS8"),  # -----BEGIN PRIVATE KEY-----
        ("ecdsa", 256, ""),
    ],
)
def test_pasted_key_is_accepted_and_stored_as_openssh(tmp_path, key_type, bits, fmt):
    path = keygen_file(tmp_path, "pasted", key_type=key_type, bits=bits, fmt=fmt)
    original = path.read_text()
    # What a copy from a Windows terminal or an e-mail does to it: CRLF and indentation.
    pasted = "\r\n".join("   " + line for line in original.splitlines()) + "\r\n\r\n"

    key = ssh_keys.key_load(private_key=pasted)

    pub_file = Path(f"{path}.pub").read_text().split()
    assert key.public_line() == " ".join(pub_file[:2])
    assert key.fingerprint == keygen_fingerprint(path)[1]
    assert key.private_openssh.startswith("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    # The stored form is a key ssh itself can use.
    stored = write_private(tmp_path, "stored", key.private_openssh)
    assert keygen_public(stored) == key.public_line()


def _refusal(text: str) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        ssh_keys.key_load(private_key=text)
    return info.value


def test_public_key_is_refused_with_a_hint(tmp_path):
    path = keygen_file(tmp_path, "id", key_type="ed25519")
    public = Path(f"{path}.pub").read_text()
    error = _refusal(public)
    assert error.code == "public_key"
    assert error.messages == [str(ssh_keys.MSG_PUBLIC)]
    # A PEM public key and an authorized_keys line with options are public keys too.
    rsa_path = keygen_file(tmp_path, "rsa", key_type="rsa", bits=2048)
    pem_public = ssh_keygen("-e", "-m", "PKCS8", "-f", f"{rsa_path}.pub")
    assert _refusal(pem_public).code == "public_key"
    assert _refusal(f'restrict,command="x" {public}').code == "public_key"


@pytest.mark.parametrize(
    "garbage",
    [
        "hello",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
        "-----BEGIN RSA PRIVATE KEY-----\nnot base64 at all\n-----END RSA PRIVATE KEY-----\n",
        "ключ",
    ],
)
def test_garbage_is_refused(garbage):
    error = _refusal(garbage)
    assert error.code == "invalid"
    assert error.messages == [str(ssh_keys.MSG_GARBAGE)]


def test_truncated_key_is_refused(tmp_path):
    text = keygen_file(tmp_path, "id", key_type="ed25519").read_text()
    lines = text.splitlines()
    truncated = "\n".join([*lines[:2], lines[-1]]) + "\n"
    assert _refusal(truncated).code == "invalid"


def test_empty_is_refused():
    assert _refusal("  \n ").code == "empty"


@pytest.mark.parametrize(("key_type", "fmt"), [("ed25519", ""), ("rsa", "PEM"), ("rsa", "PKCS8")])
def test_encrypted_key_is_refused(tmp_path, key_type, fmt):
    path = keygen_file(
        tmp_path,
        "id",
        key_type=key_type,
        bits=2048 if key_type == "rsa" else 0,
        fmt=fmt,
        passphrase="correct horse",
    )
    error = _refusal(path.read_text())
    assert error.code == "encrypted"
    assert error.messages == [str(ssh_keys.MSG_ENCRYPTED)]


@pytest.mark.parametrize("fmt", ["", "PEM"])
def test_short_rsa_key_is_refused(tmp_path, fmt):
    path = keygen_file(tmp_path, "id", key_type="rsa", bits=1024, fmt=fmt)
    error = _refusal(path.read_text())
    assert error.code == "too_weak"
    assert error.messages == [str(ssh_keys.MSG_RSA_WEAK) % {"bits": 1024, "min": 2048}]


def test_dsa_key_is_refused(tmp_path):
    path = keygen_file(tmp_path, "id", key_type="dsa")
    error = _refusal(path.read_text())
    assert error.code == "dsa"
    assert error.messages == [str(ssh_keys.MSG_DSA)]


def test_putty_key_is_refused_with_a_hint():
    assert _refusal("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n").code == "putty"


def test_too_long_text_is_refused():
    assert _refusal("A" * (ssh_keys.MAX_KEY_TEXT_LENGTH + 1)).code == "too_long"


# --- authorized_keys ------------------------------------------------------------------------


def _zone(**overrides) -> Zone:
    values = {"name": "kursk", "path_dst": "/srv/opvideo/kursk"}
    values.update(overrides)
    return Zone(ssh_private_key=ssh_keys.key_generate(), **values)


def test_authorized_keys_line_is_exact():
    zone = _zone()
    public = ssh_keys.key_load(private_key=zone.ssh_private_key).public_line()
    assert ssh_keys.authorized_keys_line(zone=zone) == (
        'restrict,command="umask 027; exec /usr/bin/env -i /usr/bin/rsync --server --daemon '
        "--config=/etc/opvideo/rsyncd-upload.conf --dparam=path=/srv/opvideo/kursk ."
        '"'
        f" {public} opvideo-kursk"
    )


def test_rsync_and_config_paths_are_overridable_and_the_default_rsync_is_recent():
    zone = _zone()
    line = ssh_keys.authorized_keys_line(
        zone=zone, rsync_path="/usr/local/bin/rsync", config_path="/etc/rsyncd.d/opv.conf"
    )
    assert line.startswith(
        'restrict,command="umask 027; exec /usr/bin/env -i /usr/local/bin/rsync --server '
        "--daemon --config=/etc/rsyncd.d/opv.conf "
    )
    # Debian's rsync is where the default says, and new enough for the module's
    # "refuse options" exceptions (3.2.0).
    result = subprocess.run(
        [ssh_keys.RSYNC_PATH, "--version"], capture_output=True, text=True, check=True, timeout=30
    )
    version = tuple(int(part) for part in result.stdout.split()[2].split(".")[:2])
    assert version >= (3, 2)


@pytest.mark.parametrize(
    "path_dst",
    ['/srv/video" ,permitopen="x', "/srv/video dir", "/srv/$(id)", "relative", "/srv/../etc"],
)
def test_unsafe_path_dst_is_never_put_into_the_command(path_dst):
    with pytest.raises(ValidationError):
        ssh_keys.authorized_keys_line(zone=_zone(path_dst=path_dst))


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("rsync_path", "/usr/bin/rsync --daemon"),
        ("rsync_path", "rsync"),
        ("config_path", "/etc/x.conf --dparam=path=/"),
        ("config_path", '/etc/x.conf"'),
    ],
)
def test_unsafe_rsync_or_config_path_is_refused(option, value):
    with pytest.raises(ValidationError):
        ssh_keys.authorized_keys_line(zone=_zone(), **{option: value})


def test_zone_name_cannot_break_the_line():
    with pytest.raises(ValidationError):
        ssh_keys.authorized_keys_line(zone=_zone(name="kursk\nssh-ed25519"))


# --- the line, installed on a real sshd -----------------------------------------------------


@pytest.fixture
def confined_sshd(tmp_path):
    """An sshd on a loopback port whose only key is a zone's, installed with our line."""
    with sshd.confined_sshd(workdir=tmp_path / "sshd") as server:
        zone = Zone(name="kursk", path_dst=str(server.dst), ssh_private_key=ssh_keys.key_generate())
        server.install(zone=zone)
        identity = write_private(tmp_path, "zone_key", zone.ssh_private_key)
        ssh = " ".join(["ssh", *server.ssh_options(identity=identity)])
        yield ssh, server.dst, tmp_path


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        args,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_installed_line_only_lets_the_key_add_files_under_path_dst(confined_sshd):
    ssh, dst, work = confined_sshd
    user = getpass.getuser()
    remote = f"{user}@127.0.0.1::opvideo/op101/"
    upload_options = ["--times", "--omit-dir-times", "--ignore-existing"]
    recording = work / "a.mp4"
    recording.write_text("first")

    upload = _run("rsync", *upload_options, "-e", ssh, str(recording), remote)
    assert upload.returncode == 0, upload.stderr
    assert (dst / "op101" / "a.mp4").read_text() == "first"

    # A second upload under the same name never replaces the recording, asked or not.
    recording.write_text("second")
    _run("rsync", *upload_options, "-e", ssh, str(recording), remote)
    replace = _run("rsync", "--times", "--omit-dir-times", "-e", ssh, str(recording), remote)
    assert "--ignore-existing is required" in replace.stderr + replace.stdout
    assert (dst / "op101" / "a.mp4").read_text() == "first"

    # Write only: nothing can be read back.
    download = _run("rsync", "-e", ssh, f"{remote}a.mp4", str(work / "copy.mp4"))
    assert download.returncode != 0
    assert not (work / "copy.mp4").exists()

    # --delete is refused, the other recordings stay.
    (dst / "op101" / "other.mp4").write_text("keep")
    source = work / "src"
    source.mkdir()
    (source / "b.mp4").write_text("b")
    delete = _run("rsync", *upload_options, "-d", "--delete", "-e", ssh, f"{source}/", remote)
    assert delete.returncode != 0
    assert (dst / "op101" / "other.mp4").read_text() == "keep"

    # Nothing outside PATH_DST, and no shell: any command gets the daemon's greeting.
    escape = _run("rsync", *upload_options, "-e", ssh, str(recording), f"{user}@127.0.0.1:../")
    assert escape.returncode != 0
    assert not (dst.parent / "a.mp4").exists()
    shell = _run(*ssh.split(), f"{user}@127.0.0.1", "cat /etc/hostname")
    assert shell.returncode != 0
    assert shell.stdout.startswith("@RSYNCD:")
