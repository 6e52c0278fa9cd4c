"""``manage.py render_stack_services --zone Z --user UID:GID``: a site's part of the stack.

Prints opvideo_nginx_<zone> and opvideo_rm_<zone> (and the declaration of the zone's link
secret) from the zone's row, ready to paste into docker-compose.yml, or puts them there
itself with ``--write docker-compose.yml`` (an earlier block of the same zone is replaced).
``--write -`` reads the stack file on stdin and prints the updated one, for when the command
runs inside a container and the file is outside it.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from zones.deployment import NODE_LABEL, StackRenderError, stack_file_update, stack_services_render
from zones.management.zone_option import zone_from_option, zone_option_add
from zones.selectors import zone_list


class Command(BaseCommand):
    help = (
        "Print the two Swarm services of a zone (video access nginx and retention worker), "
        "or write them into a stack file with --write."
    )

    def add_arguments(self, parser):
        zone_option_add(parser)
        parser.add_argument(
            "--user",
            required=True,
            metavar="UID:GID",
            help="numeric owner of PATH_DST on the storage server (bootstrap.sh prints it)",
        )
        parser.add_argument(
            "--node-label",
            default=NODE_LABEL,
            help=f"node label that marks the zone's storage server (default {NODE_LABEL})",
        )
        parser.add_argument(
            "--write",
            metavar="STACK_FILE",
            help="update this stack file in place instead of printing ('-': stdin to stdout)",
        )

    def handle(self, *args, **options):
        # Secrets deferred: rendering needs no key, so it works whatever FIELD_ENCRYPTION_KEYS.
        zone = zone_from_option(options["zone"], queryset=zone_list())
        try:
            block = stack_services_render(
                zone=zone, run_as=options["user"], node_label=options["node_label"]
            )
            if not options["write"]:
                self.stdout.write(block.document(), ending="")
                return
            if options["write"] == "-":
                self.stdout.write(stack_file_update(text=sys.stdin.read(), block=block), ending="")
                return
            path = Path(options["write"])
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
            updated = stack_file_update(text=text, block=block)
        except StackRenderError as exc:
            raise CommandError(str(exc)) from exc
        if updated == text:
            self.stdout.write(f"{path}: site {zone.name} is already up to date")
            return
        path.write_text(updated, encoding="utf-8")
        self.stdout.write(f"{path}: wrote the services of site {zone.name}")
