"""Print the GRANTs for the workstation clients' database user (see client_agent.grants)."""

from django.core.management.base import BaseCommand

from client_agent.grants import client_grants


class Command(BaseCommand):
    help = (
        "Print the MySQL/MariaDB statements that create the workstation clients' database "
        "user with exactly the privileges the client needs, and list it in CLIENT_LOGIN so "
        "that VIDEO's trigger checks the rows it inserts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="opvideo", help="database name")
        parser.add_argument("--user", default="opvideo_client", help="user name")
        parser.add_argument(
            "--host", default="%", help="host pattern the workstations connect from"
        )

    def handle(self, *args, database, user, host, **options):
        account = f"'{user}'@'{host}'"
        self.stdout.write(f"CREATE USER {account} IDENTIFIED BY '<password>';")
        for statement in client_grants(database=database, account=account):
            self.stdout.write(statement)
