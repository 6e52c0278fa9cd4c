"""A real nginx on a free loopback port, configured by the project's own template."""

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from storage.nginx import nginx_conf_render
from tests.helpers import free_port
from zones.models import Zone

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass
class Nginx:
    port: int
    access_log: Path
    error_log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_entries(self) -> list[dict]:
        if not self.access_log.exists():
            return []
        return [json.loads(line) for line in self.access_log.read_text().splitlines() if line]


def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 15) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError("nginx did not start listening")


@contextlib.contextmanager
def nginx_for_zone(
    *,
    zone: Zone,
    workdir: Path,
    port: int | None = None,
    worker_user: str = "nobody",
    worker_group: str = "nogroup",
) -> Iterator[Nginx]:
    """Start nginx with ``render_nginx_conf``'s output for ``zone``; stop it afterwards.

    Its workers run as ``worker_user`` and ``worker_group``: by default ones that read only
    what is readable by everybody (as the media trees are), and a storage test gives the
    storage user's group, as a storage server's nginx has it."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    server = Nginx(port=port, access_log=workdir / "access.log", error_log=workdir / "error.log")
    conf = workdir / "nginx.conf"
    conf.write_text(
        nginx_conf_render(
            zone=zone,
            listen_port=port,
            access_log=str(server.access_log),
            error_log=str(server.error_log),
            pid_file=str(workdir / "nginx.pid"),
            temp_dir=str(workdir / "temp"),
            worker_user=worker_user,
            worker_group=worker_group,
        )
    )
    (workdir / "temp").mkdir(exist_ok=True)
    check = subprocess.run(
        [NGINX, "-t", "-q", "-p", str(workdir), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode != 0:
        raise RuntimeError(f"nginx -t rejected the rendered config:\n{check.stderr}")
    proc = subprocess.Popen(
        [NGINX, "-p", str(workdir), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ},
    )
    try:
        _wait_port(port, proc)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
