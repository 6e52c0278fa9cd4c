"""`manage.py capacity_snapshot --zone Z [--days N]`: the zone's capacity snapshot, by hand.

Run it on the zone's storage server (where PATH_DST is mounted), as the worker would; after
an upgrade, ``--days 90`` rolls up the zone's history for the dashboard and the forecast.
The work is in storage.capacity.snapshot; this parses and prints what it recorded. Exit
status 0 when it ran, 1 with one line on bad input or when it could not run.
"""

from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils import timezone

from storage.capacity.snapshot import (
    DEFAULT_DAYS,
    CapacityError,
    zone_capacity_record,
)
from storage.retention import purge_zones
from zones.management.zone_option import zone_from_option, zone_option_add

MAX_DAYS = 3660


class Command(BaseCommand):
    help = (
        "Record the zone's storage snapshot (PATH_DST's disk size, use and free room; its "
        "recordings' count, bytes and oldest date) and roll up its last --days local days "
        "(recordings received and purged, with bytes) into ZONE_DAY. Run it on the zone's "
        "storage server; --days 90 after an upgrade fills the dashboard's history."
    )

    def add_arguments(self, parser):
        zone_option_add(parser)
        parser.add_argument(
            "--days",
            metavar="N",
            default=None,
            help=(
                "Roll up the last N days, today included (default: back to the last day "
                f"rolled up, at least {DEFAULT_DAYS}, at most the forecast's window)."
            ),
        )

    @no_translations
    def handle(self, *args, zone, days, **options):
        try:
            count = None if days is None else int(days)
        except ValueError:
            count = 0
        if count is not None and not 1 <= count <= MAX_DAYS:
            raise CommandError(f"--days must be a whole number from 1 to {MAX_DAYS}, not {days!r}")
        found = zone_from_option(zone, queryset=purge_zones())
        try:
            summary = zone_capacity_record(zone=found, now=timezone.now(), days=count)
        except CapacityError as exc:
            raise CommandError(str(exc)) from exc
        for line in summary.lines():
            self.stdout.write(line)
