"""``manage.py zone_authorized_key --zone Z``: the storage server's authorized_keys line.

The same line the zone's admin page shows, for scripts: pipe it to the storage host's
bootstrap (docker/storage/bootstrap.sh --line-file -) instead of copying it by hand. The
bootstrap also writes the rsync module configuration the line names.
"""

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management.base import BaseCommand, CommandError

from zones import selectors, ssh_keys
from zones.fields import FieldDecryptionError
from zones.management.zone_option import zone_from_option, zone_option_add


class Command(BaseCommand):
    help = (
        "Print the line to install in the zone's storage user's ~/.ssh/authorized_keys: the "
        "zone's public key, confined to uploading plain files into PATH_DST through a "
        "write-only rsync daemon module (docker/storage/bootstrap.sh installs both)."
    )

    def add_arguments(self, parser):
        zone_option_add(parser)
        parser.add_argument(
            "--rsync-path",
            default=ssh_keys.RSYNC_PATH,
            help=f"where rsync is on the storage server (default {ssh_keys.RSYNC_PATH})",
        )
        parser.add_argument(
            "--config",
            default=ssh_keys.UPLOAD_CONFIG,
            help=(
                "where the upload module's configuration is on the storage server "
                f"(default {ssh_keys.UPLOAD_CONFIG}; bootstrap.sh writes it there)"
            ),
        )

    def handle(self, *args, **options):
        zone = zone_from_option(options["zone"])
        try:
            line = selectors.zone_authorized_keys_line(
                zone=zone, rsync_path=options["rsync_path"], config_path=options["config"]
            )
        except ValidationError as exc:
            raise CommandError(f"zone {zone.name}: {' '.join(exc.messages)}") from exc
        except (FieldDecryptionError, ImproperlyConfigured) as exc:
            raise CommandError(f"zone {zone.name}: {exc}") from exc
        self.stdout.write(line)
