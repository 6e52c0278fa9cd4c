"""``manage.py sync_directory_users``: the hourly directory sync, now (search.directory_sync)."""

from django.core.management.base import BaseCommand, CommandError

from search.directory_sync import DirectoryUnavailable, SyncRefused, directory_users_sync


class Command(BaseCommand):
    help = (
        "Re-read every directory user: those no longer in LDAP_SEARCH_GROUP, disabled or gone "
        "are deactivated, their sessions ended and API tokens revoked. Changes nothing when "
        "the directory cannot be read."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="deactivate even more than OPVIDEO_DIRECTORY_SYNC_MAX_SHARE of the users",
        )

    def handle(self, *args, force: bool = False, **options):
        try:
            result = directory_users_sync(force=force)
        except (DirectoryUnavailable, SyncRefused) as exc:
            raise CommandError(str(exc)) from exc
        for name, reason in result.deactivated:
            self.stdout.write(f"deactivated {name}: {reason}")
        for name in result.updated:
            self.stdout.write(f"updated {name}: flags or groups from the directory")
        self.stdout.write(
            f"checked {result.checked}, deactivated {len(result.deactivated)}, "
            f"updated {len(result.updated)}"
        )
