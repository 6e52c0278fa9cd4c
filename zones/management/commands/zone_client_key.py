r"""``manage.py zone_client_key --zone Z``: the zone's client key, for its workstations' db.conf.

Each workstation of the zone needs it as ``OPVIDEO_ZONE_KEY`` (the ansible variable
``opvideo_client_zone_key`` of that site), and no workstation of another zone may have it:

    manage.py zone_client_key --zone kursk \
        | ansible-vault encrypt_string --stdin-name opvideo_client_zone_key

A zone that has none yet gets one now (its ssh key sealed under it). ``--new`` issues a new
one: every workstation of the zone then needs the new value, and until it has it sends
nothing (its recordings wait on it, nothing is lost). Printed without a trailing newline.
"""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from zones.fields import FieldDecryptionError
from zones.management.zone_option import zone_from_option, zone_option_add
from zones.services import zone_client_key


class Command(BaseCommand):
    help = (
        "Print the zone's client key (no newline) for OPVIDEO_ZONE_KEY in the db.conf of that "
        "zone's workstations, creating it (and sealing the zone's ssh key under it) if the "
        "zone has none. It is a secret: pipe it, do not paste it around."
    )

    def add_arguments(self, parser):
        zone_option_add(parser)
        parser.add_argument(
            "--new",
            action="store_true",
            help=(
                "Issue a new client key and seal the ssh key under it. Every workstation of "
                "the zone then needs the new value in its db.conf (OPVIDEO_ZONE_KEY) and "
                "sends nothing until it has it."
            ),
        )

    def handle(self, *args, new: bool = False, **options):
        try:
            zone = zone_from_option(options["zone"])
            issued = zone_client_key(zone=zone, renew=new)
        except (FieldDecryptionError, ImproperlyConfigured) as exc:
            raise CommandError(f"zone {options['zone']}: {exc}") from exc
        if issued.created:
            self.stderr.write(
                f"zone {zone.name}: a new client key was issued; put it into the db.conf of "
                "every workstation of this zone (OPVIDEO_ZONE_KEY, ansible variable "
                "opvideo_client_zone_key)"
            )
        elif issued.resealed:
            self.stderr.write(f"zone {zone.name}: the ssh key was sealed again (key unchanged)")
        if not zone.ssh_private_key:
            self.stderr.write(
                f"zone {zone.name} has no ssh key: generate one in the admin, or its "
                "workstations have nothing to send with"
            )
        self.stdout.write(issued.key, ending="")
