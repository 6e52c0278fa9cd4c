"""``manage.py zone_authorized_key --zone Z``: the storage server's authorized_keys line.

The same line the zone's admin page shows, for scripts: pipe it to the storage host's
bootstrap (docker/storage/bootstrap.sh --line-file -) instead of copying it by hand.
"""

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management.base import BaseCommand, CommandError

from zones import selectors, ssh_keys
from zones.fields import FieldDecryptionError
from zones.management.zone_option import zone_from_option, zone_option_add


class Command(BaseCommand):
    help = (
        "Print the line to install in the zone's storage user's ~/.ssh/authorized_keys: the "
        "zone's public key, confined by rrsync to uploading into PATH_DST."
    )

    def add_arguments(self, parser):
        zone_option_add(parser)
        parser.add_argument(
            "--rrsync-path",
            default=ssh_keys.RRSYNC_PATH,
            help=f"where rrsync is on the storage server (default {ssh_keys.RRSYNC_PATH})",
        )

    def handle(self, *args, **options):
        zone = zone_from_option(options["zone"])
        try:
            line = selectors.zone_authorized_keys_line(
                zone=zone, rrsync_path=options["rrsync_path"]
            )
        except ValidationError as exc:
            raise CommandError(f"zone {zone.name}: {' '.join(exc.messages)}") from exc
        except (FieldDecryptionError, ImproperlyConfigured) as exc:
            raise CommandError(f"zone {zone.name}: {exc}") from exc
        self.stdout.write(line)
