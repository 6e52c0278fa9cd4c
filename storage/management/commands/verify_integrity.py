"""`manage.py verify_integrity --zone Z [--limit N]`: the zone's integrity check, by hand.

Run it on the zone's storage server (where PATH_DST is mounted), as the worker would. The
work is in storage.integrity; this parses and prints one line.

Exit status: 0 when the run made no new finding, 1 with one line on bad input or when the
check could not run, 2 when it recorded new findings (listed under "Integrity findings" in
the admin), so a script or a monitor can tell "all intact" from "look at the admin".
"""

from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils import timezone

from storage.integrity import IntegrityCheckError, videos_verify_integrity
from storage.management.limit_option import limit_from_option, limit_option_add
from storage.retention import purge_zones
from zones.management.zone_option import zone_from_option, zone_option_add

EXIT_FINDINGS = 2


class Command(BaseCommand):
    help = (
        "Re-read the zone's stored recordings that are due against their SHA-256 (at most "
        "OPVIDEO_FIXITY_MB_PER_S, for at most OPVIDEO_FIXITY_RUN_SECONDS) and record what "
        "differs. Never repairs or deletes anything. Exit status 2 when new findings were "
        "recorded."
    )

    def add_arguments(self, parser):
        zone_option_add(parser)
        limit_option_add(parser, what="Check")

    @no_translations
    def handle(self, *args, zone, limit, **options):
        found = zone_from_option(zone, queryset=purge_zones())
        count = limit_from_option(limit)
        try:
            summary = videos_verify_integrity(zone=found, now=timezone.now(), limit=count)
        except IntegrityCheckError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(summary.line())
        if summary.findings:
            raise CommandError(
                f"{summary.findings} new integrity finding(s): see Integrity findings in the admin",
                returncode=EXIT_FINDINGS,
            )
