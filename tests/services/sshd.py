"""A real OpenSSH sshd on a loopback port, for tests of what a storage server lets a key do.

Two ways to run it:

- ``confined_sshd``: zone keys are known only through the line the admin shows
  (``zones.ssh_keys.authorized_keys_line``), confined to the upload module that
  docker/storage/bootstrap.sh writes, as on a storage server; it can be stopped and started
  again on the same port with the same host key, to play a storage server that goes away and
  comes back. It logs in as the user running the tests (root), so the module runs as root
  here (a root daemon would otherwise switch to "nobody"); tests/deploy runs it as a storage
  user that bootstrap.sh made.
- ``sshd_server``: reads each user's own ``~/.ssh/authorized_keys`` (as a bootstrapped storage
  server does) with StrictModes on, so wrong owners or modes fail here as they would there.
"""

from __future__ import annotations

import contextlib
import getpass
import shlex
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import REPO, free_port
from zones import ssh_keys
from zones.models import Zone

SSHD = "/usr/sbin/sshd"
BOOTSTRAP = REPO / "docker" / "storage" / "bootstrap.sh"

CLIENT_OPTIONS = [
    "-o", "BatchMode=yes",
    "-o", "IdentitiesOnly=yes",
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
]  # fmt: skip


def _prepare(workdir: Path) -> None:
    try:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
    except PermissionError:
        pytest.skip("sshd needs /run/sshd, which only root can create")
    workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(workdir / "host_key")],
        check=True,
        capture_output=True,
        timeout=60,
    )


def _write_config(
    workdir: Path, port: int, *, strict_modes: bool, authorized_keys_file: str | None, extra=""
) -> Path:
    lines = [
        f"Port {port}",
        "ListenAddress 127.0.0.1",
        f"HostKey {workdir}/host_key",
        f"PidFile {workdir}/sshd.pid",
        # Without PAM sshd also refuses locked ('!') accounts: the strict case.
        "UsePAM no",
        f"StrictModes {'yes' if strict_modes else 'no'}",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        # Many workstations connect at once; the default (10:30:100) starts dropping new
        # connections at random beyond ten. The README tells storage admins the same.
        "MaxStartups 100:30:200",
    ]
    if authorized_keys_file:
        lines.append(f"AuthorizedKeysFile {authorized_keys_file}")
    config = workdir / "sshd_config"
    config.write_text("\n".join(lines) + "\n" + extra)
    return config


def _start(config: Path, port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [SSHD, "-D", "-f", str(config), "-E", str(log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"sshd exited:\n{log.read_text()}") from None
            if time.monotonic() > deadline:
                raise RuntimeError("sshd did not start listening") from None
            time.sleep(0.05)


def _stop(proc: subprocess.Popen | None) -> None:
    # sshd -D forks a child per connection; they end with their connections.
    if proc is not None and proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class ConfinedSshd:
    workdir: Path
    port: int
    dst: Path  # PATH_DST: where the upload module lets the zone keys write
    user: str = field(default_factory=getpass.getuser)
    proc: subprocess.Popen | None = None

    @property
    def authorized_keys(self) -> Path:
        return self.workdir / "authorized_keys"

    @property
    def log(self) -> Path:
        return self.workdir / "sshd.log"

    @property
    def host_key(self) -> str:
        """The server's public host key (``ssh-ed25519 AAAA… comment``), as a zone pins it."""
        return host_public_key(self.workdir)

    @property
    def module_config(self) -> Path:
        return self.workdir / "etc" / "rsyncd-upload.conf"

    def install(self, *, zone: Zone) -> str:
        """Append the zone's line as the admin page shows it (with the module's configuration
        in this server's directory), write the module with bootstrap.sh; return the line."""
        line = ssh_keys.authorized_keys_line(zone=zone, config_path=str(self.module_config))
        written = subprocess.run(
            [str(BOOTSTRAP), "--module-only", "--line", line],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if written.returncode != 0:
            raise RuntimeError(f"bootstrap.sh --module-only failed:\n{written.stderr}")
        text = self.module_config.read_text()
        if "\nuid = " not in text:
            self.module_config.write_text(
                f"# tests: the daemon runs as root here\nuid = 0\ngid = 0\n{text}"
            )
        with self.authorized_keys.open("a") as handle:
            handle.write(line + "\n")
        return line

    def start(self) -> None:
        self.proc = _start(self.workdir / "sshd_config", self.port, self.log)

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None

    def ssh_options(self, *, identity: Path) -> list[str]:
        """ssh options for a test's own client (not the workstation client's)."""
        return ["-i", str(identity), "-p", str(self.port), *CLIENT_OPTIONS]


@contextlib.contextmanager
def confined_sshd(
    *, workdir: Path, dst: Path | None = None, port: int | None = None
) -> Iterator[ConfinedSshd]:
    """Start sshd in ``workdir`` (with a host key of its own); zone keys are added with
    ``install``. ``port``: take over another server's address. Skips without root."""
    _prepare(workdir)
    dst = dst or workdir / "dst"
    dst.mkdir(parents=True, exist_ok=True)
    server = ConfinedSshd(workdir=workdir, port=port or free_port(), dst=dst)
    server.authorized_keys.touch()
    _write_config(
        workdir, server.port, strict_modes=False, authorized_keys_file=str(server.authorized_keys)
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def host_public_key(workdir: Path) -> str:
    return (workdir / "host_key.pub").read_text().strip()


@dataclass(frozen=True)
class Sshd:
    port: int
    workdir: Path

    @property
    def host_key(self) -> str:
        return host_public_key(self.workdir)

    def ssh_command(self, identity: Path) -> str:
        """The ``-e`` argument for rsync (split it for a plain ssh call)."""
        options = " ".join(shlex.quote(o) for o in CLIENT_OPTIONS)
        return f"ssh -i {shlex.quote(str(identity))} -p {self.port} {options} -o ConnectTimeout=10"


@contextlib.contextmanager
def sshd_server(
    workdir: Path, *, authorized_keys_file: str | None = None, extra_config: str = ""
) -> Iterator[Sshd]:
    """Start sshd with StrictModes on (root only: it switches to the logging-in user)."""
    _prepare(workdir)
    port = free_port()
    config = _write_config(
        workdir,
        port,
        strict_modes=True,
        authorized_keys_file=authorized_keys_file,
        extra=extra_config,
    )
    proc = _start(config, port, workdir / "sshd.log")
    try:
        yield Sshd(port=port, workdir=workdir)
    finally:
        _stop(proc)
