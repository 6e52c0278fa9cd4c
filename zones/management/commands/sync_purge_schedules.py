"""`manage.py sync_purge_schedules`: give every enabled zone its daily purge entry, its
integrity-check entry (every OPVIDEO_FIXITY_INTERVAL_MINUTES), its media-read entry
(every OPVIDEO_MEDIA_INTERVAL_MINUTES) and its capacity-snapshot entry (every
OPVIDEO_CAPACITY_INTERVAL_MINUTES).

Saving a zone in the admin does this for that zone; this is for zones that never were
saved through the admin (a database adopted from the old system, a restored backup).
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from zones.capacity_schedule import CAPACITY_SCHEDULE
from zones.fixity_schedule import zones_fixity_schedules_sync
from zones.media_schedule import MEDIA_SCHEDULE
from zones.purge_schedule import zones_purge_schedules_sync


class Command(BaseCommand):
    help = (
        "Create, update or remove the beat entries of the zones' daily purge, integrity "
        "check, media read and capacity snapshot so that every enabled zone has one of each "
        "and no other zone does. Review each zone's retention days first."
    )

    def handle(self, *args, **options):
        for name, action in zones_purge_schedules_sync():
            self.stdout.write(f"{name}: {action}")
        with transaction.atomic():
            fixity = zones_fixity_schedules_sync()
            media = MEDIA_SCHEDULE.sync_all()
            capacity = CAPACITY_SCHEDULE.sync_all()
        for name, action in fixity:
            self.stdout.write(f"{name} (integrity check): {action}")
        for name, action in media:
            self.stdout.write(f"{name} (media read): {action}")
        for name, action in capacity:
            self.stdout.write(f"{name} (capacity snapshot): {action}")
