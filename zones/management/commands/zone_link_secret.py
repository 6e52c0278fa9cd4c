"""``manage.py zone_link_secret --zone Z``: the zone's video link secret, for its nginx.

The zone's nginx (opvideo_nginx_<zone>) checks links with this secret, which it reads from
a Swarm secret:

    manage.py zone_link_secret --zone kursk | docker secret create opvideo_link_secret_kursk -

Printed without a trailing newline, so the secret file holds exactly the secret.
"""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from zones.deployment import link_secret_name
from zones.fields import FieldDecryptionError
from zones.management.zone_option import zone_from_option, zone_option_add


class Command(BaseCommand):
    help = (
        "Print the zone's video link secret (no newline) for `docker secret create "
        "opvideo_link_secret_<zone> -`. It is a secret: pipe it, do not paste it around."
    )

    def add_arguments(self, parser):
        zone_option_add(parser)

    def handle(self, *args, **options):
        zone = zone_from_option(options["zone"])
        try:
            secret = zone.link_secret
        except (FieldDecryptionError, ImproperlyConfigured) as exc:
            raise CommandError(f"zone {zone.name}: {exc}") from exc
        if not secret:
            raise CommandError(
                f"zone {zone.name} has no link secret: use the admin action "
                "'Regenerate video link secret' first"
            )
        if self.stdout.isatty():
            self.stderr.write(
                f"(pipe this into: docker secret create {link_secret_name(zone_name=zone.name)} -)"
            )
        self.stdout.write(secret, ending="")
