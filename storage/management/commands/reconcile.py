"""`manage.py reconcile --zone Z`: a zone's rows against the files on its storage server.

Run it on the zone's storage server. The work is in storage.reconcile; this only prints.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, no_translations

from storage.reconcile import ORPHAN_MIN_AGE, videos_reconcile
from storage.retention import PurgeError, purge_zones
from zones.management.zone_option import zone_from_option, zone_option_add


class Command(BaseCommand):
    help = (
        "Report files in the zone's storage directory that no row knows (orphans) and live "
        "rows whose file is missing or differs from the row (size; content with "
        "--verify-content). --fix records the missing ones as deleted; orphans are deleted only "
        "with --delete-orphans; a file that differs is only reported."
    )

    def add_arguments(self, parser):
        zone_option_add(parser)
        parser.add_argument(
            "--fix",
            action="store_true",
            help="Record live rows whose file is missing as deleted (never one on legal hold).",
        )
        parser.add_argument(
            "--delete-orphans",
            action="store_true",
            help="Delete files no row knows, if they arrived more than --orphan-min-age ago.",
        )
        parser.add_argument(
            "--verify-content",
            action="store_true",
            help="Also read every live row's file and compare it with the row's hash (slow: "
            "reads the whole storage).",
        )
        parser.add_argument(
            "--orphan-min-age",
            type=float,
            default=ORPHAN_MIN_AGE.total_seconds() / 3600,
            metavar="HOURS",
            help="A file with no row younger than this is never deleted (default %(default)s).",
        )

    @no_translations
    def handle(self, *args, zone, fix, delete_orphans, verify_content, orphan_min_age, **options):
        found = zone_from_option(zone, queryset=purge_zones())
        if orphan_min_age < 0:
            raise CommandError("--orphan-min-age cannot be negative")
        try:
            summary = videos_reconcile(
                zone=found,
                fix=fix,
                delete_orphans=delete_orphans,
                verify_content=verify_content,
                orphan_min_age=timedelta(hours=orphan_min_age),
                report=self._report,
            )
        except PurgeError as exc:
            raise CommandError(str(exc)) from exc
        for line in summary.lines():
            self.stdout.write(line)
        if not fix and summary.missing - summary.missing_held:
            self.stdout.write("Run again with --fix to record the missing files as deleted.")
        if not delete_orphans and summary.orphans - summary.orphans_too_new:
            self.stdout.write("Run again with --delete-orphans to delete the orphans.")

    def _report(self, finding: str, name: str, detail: str) -> None:
        self.stdout.write(f"{finding}: {name}" + (f" ({detail})" if detail else ""))
