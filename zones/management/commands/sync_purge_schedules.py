"""`manage.py sync_purge_schedules`: give every enabled zone its daily purge entry.

Saving a zone in the admin does this for that zone; this is for zones that never were
saved through the admin (a database adopted from the old system, a restored backup).
"""

from django.core.management.base import BaseCommand

from zones.purge_schedule import zones_purge_schedules_sync


class Command(BaseCommand):
    help = (
        "Create, update or remove the beat entries of the zones' daily purge so that every "
        "enabled zone has one and no other zone does. Review each zone's retention days first."
    )

    def handle(self, *args, **options):
        for name, action in zones_purge_schedules_sync():
            self.stdout.write(f"{name}: {action}")
