"""Helpers for the zones tests: real keys made by OpenSSH's own ssh-keygen."""

import subprocess
from pathlib import Path

import pytest


def ssh_keygen(*args: str) -> str:
    """Run ssh-keygen and return its stdout (it is the reference the code must agree with)."""
    result = subprocess.run(
        ["ssh-keygen", *args], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def keygen_file(
    directory: Path, name: str, *, key_type: str, bits: int = 0, fmt: str = "", passphrase=""
) -> Path:
    """Make a key pair with ssh-keygen; returns the private key's path (``.pub`` next to it)."""
    path = directory / name
    args = ["-q", "-t", key_type, "-N", passphrase, "-C", f"{name}@test", "-f", str(path)]
    if bits:
        args += ["-b", str(bits)]
    if fmt:
        args += ["-m", fmt]
    ssh_keygen(*args)
    return path


def write_private(directory: Path, name: str, text: str) -> Path:
    """Write a private key the way ssh wants it: mode 0600."""
    path = directory / name
    path.write_text(text)
    path.chmod(0o600)
    return path


def keygen_fingerprint(path: Path) -> tuple[int, str, str]:
    """(bits, "SHA256:…", "ED25519") from ``ssh-keygen -lf``."""
    out = ssh_keygen("-lf", str(path)).split()
    return int(out[0]), out[1], out[-1].strip("()")


def keygen_public(path: Path) -> str:
    """``type base64`` that ``ssh-keygen -y`` derives from a private key file."""
    return " ".join(ssh_keygen("-y", "-f", str(path)).split()[:2])


@pytest.fixture
def zone_fields() -> dict:
    """A valid zone, as the services take it (the seed README's example, made valid)."""
    return {
        "name": "zone-test",
        "server": "docker5.zone-test.example.ru",
        "ssh_user": "opvideo",
        "speed_kbps": 3000,
        "path_src": "/home/oper/.videos/",
        "path_dst": "/srv/opvideo/zone-test",
        "file_extension": "mp4",
        "public_address": "docker5.zone-test.example.ru",
        "public_port": 88,
    }


ADD_URL = "/admin/zones/zone/add/"
LIST_URL = "/admin/zones/zone/"


def change_url(zone) -> str:
    return f"/admin/zones/zone/{zone.pk}/change/"


@pytest.fixture
def form_data() -> dict:
    """A complete, valid zone add form as the browser posts it."""
    return {
        "name": "kursk",
        "enabled": "on",
        "server": "docker5.kursk.example.ru",
        "ssh_user": "opvideo",
        "ssh_port": "22",
        "path_dst": "/srv/opvideo/kursk",
        "speed_kbps": "3000",
        "path_src": "/home/oper/.videos/",
        "file_extension": "mp4",
        "file_name_pattern": "",
        "retention_days": "90",
        "purge_time": "03:00",
        "public_scheme": "http",
        "public_address": "docker5.kursk.example.ru",
        "public_port": "88",
        "key_action": "ed25519",
        "private_key": "",
    }
