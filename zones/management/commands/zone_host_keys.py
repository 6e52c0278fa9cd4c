"""``manage.py zone_host_keys --zone Z [--fetch | --file F | --clear] [--yes]``.

The zone page's host key section, for admins who script: without an action it prints the
pinned keys' fingerprints; ``--fetch`` reads them with ssh-keyscan and pins them once
confirmed (a question on a terminal, or ``--yes`` for a script that has compared them with
the server's ``ssh-keygen -lf`` itself); ``--file`` pins the keys in a file (``-``: standard
input), such as the server's ``/etc/ssh/ssh_host_*_key.pub``; ``--clear`` unpins them.
"""

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from zones import host_keys
from zones.management.zone_option import zone_from_option, zone_option_add
from zones.models import Zone
from zones.selectors import SECRET_COLUMNS
from zones.services import zone_update


class Command(BaseCommand):
    help = (
        "Show, fetch (ssh-keyscan) or set the storage server host keys pinned for a zone; "
        "workstations connect only to a server showing one of them."
    )

    def add_arguments(self, parser):
        zone_option_add(parser)
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--fetch", action="store_true", help="read the keys with ssh-keyscan and pin them"
        )
        action.add_argument(
            "--file", metavar="F", help="pin the keys in F (.pub or known_hosts lines; - : stdin)"
        )
        action.add_argument(
            "--clear", action="store_true", help="unpin the keys: workstations send nothing"
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help="with --fetch: pin without asking (you compared the fingerprints already)",
        )

    def handle(self, *args, **options):
        # The secrets are not needed here: the command works whatever FIELD_ENCRYPTION_KEYS is.
        zone = zone_from_option(options["zone"], queryset=Zone.objects.defer(*SECRET_COLUMNS))
        where = f"{zone.server}, port {zone.ssh_port}"
        try:
            if options["fetch"]:
                keys = host_keys.host_keys_fetch(server=zone.server, port=zone.ssh_port)
                self._show(f"zone {zone.name}: {where} shows", keys)
                if not options["yes"]:
                    self._confirm()
            elif options["file"]:
                keys = host_keys.host_keys_parse(self._read(options["file"]))
            elif options["clear"]:
                keys = []
            else:
                pinned = host_keys.zone_host_keys(zone=zone)
                self._show(f"zone {zone.name}: pinned for {where}", pinned)
                return
            zone_update(zone=zone, host_keys=host_keys.host_keys_text(keys))
        except ValidationError as exc:
            raise CommandError(f"zone {zone.name}: {' '.join(exc.messages)}") from exc
        if keys:
            self._show(f"zone {zone.name}: pinned", keys)
        else:
            self.stdout.write(f"zone {zone.name}: no host key pinned; workstations send nothing")

    def _show(self, title: str, keys: list[host_keys.HostKey]) -> None:
        if not keys:
            self.stdout.write(f"{title}: nothing (workstations send nothing)")
            return
        self.stdout.write(f"{title}:")
        for key in keys:
            self.stdout.write(f"  {key.describe()}")

    def _confirm(self) -> None:
        if not sys.stdin.isatty():
            raise CommandError(
                "not pinned: compare the fingerprints with `ssh-keygen -lf "
                "/etc/ssh/ssh_host_ed25519_key.pub` on the storage server, then run again "
                "with --yes"
            )
        self.stdout.write(
            "Compare them with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` (and the "
            "other .pub files) on the storage server."
        )
        answer = input("Do they match? Pin them [y/N]: ").strip().lower()
        if answer not in ("y", "yes"):
            raise CommandError("not pinned")

    @staticmethod
    def _read(name: str) -> str:
        if name == "-":
            return sys.stdin.read()
        try:
            with open(name, encoding="utf-8", errors="replace") as handle:
                return handle.read(host_keys.MAX_TEXT_LENGTH + 1)
        except OSError as exc:
            raise CommandError(f"cannot read {name}: {exc.strerror or exc}") from exc
