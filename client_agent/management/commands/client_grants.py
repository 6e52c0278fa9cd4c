"""Print the GRANTs for a zone's workstation clients' database user (see client_agent.grants)."""

from django.core.management.base import BaseCommand

from client_agent.grants import client_grants, client_user_default
from zones.management.zone_option import zone_from_option, zone_option_add
from zones.models import Zone


class Command(BaseCommand):
    help = (
        "Print the MySQL/MariaDB statements that create the database user of one zone's "
        "workstation clients with exactly the privileges the client needs (its own zone's "
        "sealed ssh key, no other zone's and no key column of CONFIG), and list it in "
        "CLIENT_LOGIN with its zone, so that the triggers check the rows it writes."
    )

    def add_arguments(self, parser):
        zone_option_add(parser)
        parser.add_argument("--database", default="opvideo", help="database name")
        parser.add_argument("--user", default="", help="user name (default: opvideo_client_<zone>)")
        parser.add_argument(
            "--host", default="%", help="host pattern the zone's workstations connect from"
        )

    def handle(self, *args, database, user, host, **options):
        # Only the name: printing grants needs none of the zone's secrets.
        zone = zone_from_option(options["zone"], queryset=Zone.objects.only("id", "name"))
        account = f"'{user or client_user_default(zone=zone.name)}'@'{host}'"
        self.stdout.write(f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '<password>';")
        for statement in client_grants(zone=zone.name, database=database, account=account):
            self.stdout.write(statement)
