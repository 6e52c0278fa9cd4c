"""Print the GRANTs for the retention workers' database user (see storage.grants)."""

from django.core.management.base import BaseCommand

from storage.grants import retention_grants


class Command(BaseCommand):
    help = (
        "Print the MySQL/MariaDB statements that create the retention workers' database user "
        "with exactly the privileges the purge and reconcile need."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="opvideo", help="database name")
        parser.add_argument("--user", default="opvideo_rm", help="user name")
        parser.add_argument(
            "--host", default="%", help="host pattern the storage servers connect from"
        )

    def handle(self, *args, database, user, host, **options):
        account = f"'{user}'@'{host}'"
        self.stdout.write(f"CREATE USER {account} IDENTIFIED BY '<password>';")
        for statement in retention_grants(database=database, account=account):
            self.stdout.write(statement)
