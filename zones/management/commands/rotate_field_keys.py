"""``manage.py rotate_field_keys``: re-encrypt every encrypted column under the first key.

Also the step that encrypts the plaintext private keys the old system left in CONFIG, and
that gives every zone its client key and a sealed ssh key matching its current one.
"""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from zones.fields import FieldDecryptionError
from zones.key_rotation import FieldKeyRotationError, field_keys_rotate
from zones.services import zones_client_keys_ensure


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted column (CONFIG.RSA_KEY, LINK_SECRET, CLIENT_KEY) under the "
        "first FIELD_ENCRYPTION_KEYS key and encrypt legacy plaintext values, all or nothing; "
        "then make sure every zone has a client key and its ssh key sealed under it (existing "
        "client keys are kept)."
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
            for line in summary.lines():
                self.stdout.write(line)
            client = zones_client_keys_ensure(dry_run=dry_run)
        except (FieldKeyRotationError, FieldDecryptionError, ImproperlyConfigured) as exc:
            raise CommandError(str(exc)) from exc
        for line in client.lines():
            self.stdout.write(line)
