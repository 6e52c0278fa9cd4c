"""A real OpenSSH sshd on a loopback port that knows zone keys only through the line the
admin shows (``zones.ssh_keys.authorized_keys_line``): rrsync-confined, as on a storage
server. It can be stopped and started again on the same port with the same host key, to
play a storage server that goes away and comes back."""

from __future__ import annotations

import contextlib
import getpass
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import free_port
from zones import ssh_keys
from zones.models import Zone

SSHD = "/usr/sbin/sshd"


@dataclass
class ConfinedSshd:
    workdir: Path
    port: int
    dst: Path  # PATH_DST: where rrsync lets the zone keys write
    user: str = field(default_factory=getpass.getuser)
    proc: subprocess.Popen | None = None

    @property
    def authorized_keys(self) -> Path:
        return self.workdir / "authorized_keys"

    @property
    def log(self) -> Path:
        return self.workdir / "sshd.log"

    def install(self, *, zone: Zone) -> str:
        """Append the zone's line, exactly as the admin page shows it; return the line."""
        line = ssh_keys.authorized_keys_line(zone=zone)
        with self.authorized_keys.open("a") as handle:
            handle.write(line + "\n")
        return line

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-f", str(self.workdir / "sshd_config"), "-E", str(self.log)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"sshd exited:\n{self.log.read_text()}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError("sshd did not start listening") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None
        # sshd -D forks a child per connection; they end with their connections.

    def ssh_options(self, *, identity: Path) -> list[str]:
        """ssh options for a test's own client (not the workstation client's)."""
        return [
            "-i",
            str(identity),
            "-p",
            str(self.port),
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
        ]


@contextlib.contextmanager
def confined_sshd(*, workdir: Path, dst: Path | None = None) -> Iterator[ConfinedSshd]:
    """Start sshd in ``workdir``; zone keys are added with ``install``. Skips without root."""
    try:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    except PermissionError:
        pytest.skip("sshd needs /run/sshd, which only root can create")
    workdir.mkdir(parents=True, exist_ok=True)
    dst = dst or workdir / "dst"
    dst.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(workdir / "host_key")],
        check=True,
        timeout=60,
    )
    server = ConfinedSshd(workdir=workdir, port=free_port(), dst=dst)
    server.authorized_keys.touch()
    (workdir / "sshd_config").write_text(
        f"Port {server.port}\nListenAddress 127.0.0.1\nHostKey {workdir}/host_key\n"
        f"AuthorizedKeysFile {server.authorized_keys}\nPidFile {workdir}/sshd.pid\n"
        "StrictModes no\nUsePAM no\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        # Many workstations connect at once; the default (10:30:100) starts dropping new
        # connections at random beyond ten. The README tells storage admins the same.
        "MaxStartups 100:30:200\n"
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
