"""Load the demo zone, login and recordings used by ``make run``."""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from client_agent.demo import demo_workstations_load
from storage.demo import demo_load
from storage.media.read import MediaReadError
from storage.samples import SampleError


class Command(BaseCommand):
    help = "Create the demo zone, a demo login and sample recordings (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--root", required=True, type=Path, help="directory for demo files")
        parser.add_argument(
            "--addr",
            default="127.0.0.1:8000",
            help="where the server will listen, as runserver takes it (port or host:port): the "
            "address printed",
        )

    def handle(self, *args, root: Path, addr: str, **options):
        # The password comes from the environment, not argv, so `ps` never shows it.
        password = os.environ.get("OPVIDEO_DEMO_PASSWORD", "")
        if len(password) < 8:
            raise CommandError("set OPVIDEO_DEMO_PASSWORD (8+ characters) for the demo login")
        try:
            summary = demo_load(root=root, password=password)
        except (SampleError, MediaReadError) as exc:
            raise CommandError(str(exc)) from exc
        # The admin home's dashboard wants a fleet too. The command wires the two apps
        # (storage does not know client_agent; the demo's workstations live there).
        demo_workstations_load(zone=summary.zone, now=timezone.now())
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "OPVideo demo is ready.",
                    f"  URL:        {demo_url(addr)}",
                    f"  Login:      {summary.username}",
                    f"  Password:   {password}",
                    f"  Session id: {summary.session_ids[0]}",
                    f"  (zone '{summary.zone.name}', {summary.files_made} new sample recordings, "
                    f"{summary.media.read} newly read: start, duration, previews)",
                    "",
                ]
            )
        )


def demo_url(addr: str) -> str:
    """The address to open for runserver's ``addr`` (``8000``, ``0.0.0.0:8000``,
    ``[::1]:8000``): a server on every interface is reached on this machine's loopback."""
    host, _, port = addr.rpartition(":")
    if host in ("", "0.0.0.0", "0", "[::]"):  # noqa: S104 - read, not bound
        host = "127.0.0.1"
    return f"http://{host}:{port}/"
