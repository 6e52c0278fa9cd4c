"""A real OpenSSH sshd on a loopback port, for tests of what a storage server lets a key do.

Adapted from the zones tests' fixture so other tests can share it; this one reads each
user's own ``~/.ssh/authorized_keys`` by default (as a storage server does) and keeps
sshd's StrictModes on, so wrong owners or modes fail here as they would there.
"""

import contextlib
import shlex
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import free_port

SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class Sshd:
    port: int
    workdir: Path

    def ssh_command(self, identity: Path) -> str:
        """The ``-e`` argument for rsync (split it for a plain ssh call)."""
        return (
            f"ssh -i {shlex.quote(str(identity))} -p {self.port} -o BatchMode=yes "
            "-o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
            "-o LogLevel=ERROR -o ConnectTimeout=10"
        )


@contextlib.contextmanager
def sshd_server(
    workdir: Path, *, authorized_keys_file: str | None = None, extra_config: str = ""
) -> Iterator[Sshd]:
    """Start sshd (root only: it switches to the logging-in user); stop it afterwards."""
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
    workdir.mkdir(parents=True, exist_ok=True)
    host_key = workdir / "host_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = free_port()
    config = workdir / "sshd_config"
    lines = [
        f"Port {port}",
        "ListenAddress 127.0.0.1",
        f"HostKey {host_key}",
        f"PidFile {workdir}/sshd.pid",
        # Without PAM sshd also refuses locked ('!') accounts: the strict case.
        "UsePAM no",
        "StrictModes yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
    ]
    if authorized_keys_file:
        lines.append(f"AuthorizedKeysFile {authorized_keys_file}")
    config.write_text("\n".join(lines) + "\n" + extra_config)
    server = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "sshd.log").open("w"),
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError(
                        "sshd exited: " + (workdir / "sshd.log").read_text()
                    ) from None
                if time.monotonic() > deadline:
                    raise RuntimeError("sshd did not start") from None
                time.sleep(0.1)
        yield Sshd(port=port, workdir=workdir)
    finally:
        server.terminate()
        server.wait(timeout=10)
