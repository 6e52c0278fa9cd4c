"""Container healthcheck of the application image, for whichever role the container runs.

    python docker/app/healthcheck.py [web|worker|beat]

Without an argument the role is read from what PID 1 runs (the entrypoint ``exec``s into
gunicorn or celery), so the image's one HEALTHCHECK fits every service of the stack.

- web: ``GET /healthz/`` on the local gunicorn must answer 200 (it also asks the database).
  It is sent with an allowed Host and ``X-Forwarded-Proto: https``, as the TLS proxy in
  front would, so host checking and the https redirect stay on in production.
- worker: a Celery ping to this worker alone (node ``<OPVIDEO_ZONE>@<hostname>``, or
  ``<OPVIDEO_WORKER_NODE>@<hostname>`` for the directory worker) must be
  answered: the worker is connected to the broker and its main loop is alive.
- beat: nothing to ask; beat exits when it fails and Swarm starts it again.

Exit status 0 is healthy, 1 unhealthy (what Docker expects); one line says why.
Standard library and celery only, so a check costs no Django start. Redis's password comes
from REDIS_PASSWORD(_FILE), as in the settings.
"""

from __future__ import annotations

import http.client
import os
import socket
import sys
from pathlib import Path


def _env_secret(name: str, default: str) -> str:
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return os.environ.get(name) or default


def detect_role() -> str:
    try:
        return role_of(Path("/proc/1/cmdline").read_bytes())
    except OSError:
        return "unknown"


def role_of(cmdline: bytes) -> str:
    """The role of a process from its NUL-separated command line."""
    words = {Path(a.decode(errors="replace")).name for a in cmdline.split(b"\0") if a}
    if any(w.startswith("gunicorn") for w in words):
        return "web"
    if "celery" in words and "worker" in words:
        return "worker"
    if "celery" in words and "beat" in words:
        return "beat"
    return "unknown"


def check_web() -> tuple[bool, str]:
    bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
    port = int(bind.rsplit(":", 1)[-1])
    hosts = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")]
    host = next((h.lstrip(".") for h in hosts if h and h != "*"), "localhost")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/healthz/", headers={"Host": host, "X-Forwarded-Proto": "https"})
        response = conn.getresponse()
        body = response.read(200).decode(errors="replace").strip()
    except OSError as exc:
        return False, f"web: no answer on port {port}: {exc}"
    finally:
        conn.close()
    return response.status == 200, f"web: /healthz/ answered {response.status} {body}"


def check_worker() -> tuple[bool, str]:
    from celery import Celery

    # A zone's worker is named after its zone; the directory worker (entrypoint role
    # `directory`) after OPVIDEO_WORKER_NODE.
    zone = os.environ.get("OPVIDEO_WORKER_NODE") or os.environ.get("OPVIDEO_ZONE", "")
    node = f"{zone}@{socket.gethostname()}"
    app = Celery(
        "opvideo-healthcheck", broker=_env_secret("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    )
    try:
        # Apart from the URL, as the settings give it (Celery prefers the URL of the environment).
        app.conf.broker_password = _env_secret("REDIS_PASSWORD", "") or None
    except OSError as exc:
        return False, f"worker {node}: cannot read the broker's password: {exc}"
    try:
        replies = app.control.ping(destination=[node], timeout=5)
    except Exception as exc:  # the broker itself is unreachable
        return False, f"worker {node}: broker unreachable: {exc}"
    finally:
        app.close()
    if any(node in reply for reply in replies):
        return True, f"worker {node}: answered"
    return False, f"worker {node}: no answer to ping"


def main(argv: list[str]) -> int:
    role = argv[1] if len(argv) > 1 else detect_role()
    if role == "web":
        healthy, why = check_web()
    elif role == "worker":
        healthy, why = check_worker()
    elif role in {"beat", "unknown"}:
        healthy, why = True, f"{role}: nothing to check"
    else:
        print(f"unknown role {role!r}: expected web, worker or beat", file=sys.stderr)
        return 1
    print(why)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
