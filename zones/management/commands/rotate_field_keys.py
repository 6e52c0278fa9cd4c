"""``manage.py rotate_field_keys``: re-encrypt every encrypted column under the first key.

Also the step that encrypts the plaintext private keys the old system left in CONFIG.
"""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from zones.services import FieldKeyRotationError, field_keys_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted column under the first FIELD_ENCRYPTION_KEYS key and "
        "encrypt legacy plaintext values. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check every value and report what would change; write nothing.",
        )

    def handle(self, *args, dry_run: bool = False, **options):
        try:
            summary = field_keys_rotate(dry_run=dry_run)
        except (FieldKeyRotationError, ImproperlyConfigured) as exc:
            raise CommandError(str(exc)) from exc
        for line in summary.lines():
            self.stdout.write(line)
