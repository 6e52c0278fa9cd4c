"""`manage.py purge_expired --zone Z`: the retention purge of one zone, run by hand.

Run it on the zone's storage server (where PATH_DST is mounted), as the worker would. The
work is in storage.retention; this parses, shows progress and prints.
"""

import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError, no_translations
from django.template.defaultfilters import filesizeformat
from tqdm import tqdm

from storage.paths import Removal
from storage.retention import (
    PurgeError,
    purge_zones,
    retention_today,
    videos_expired,
    videos_purge_expired,
)
from zones.management.zone_option import zone_from_option, zone_option_add


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--today must be a date as YYYY-MM-DD, not {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Delete the zone's expired recordings from its storage directory and record their "
        "deletion date. Prints a summary; --dry-run lists what would be deleted and changes "
        "nothing."
    )

    def add_arguments(self, parser):
        zone_option_add(parser)
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be deleted; change nothing."
        )
        parser.add_argument(
            "--today",
            metavar="YYYY-MM-DD",
            help="Purge as of this day instead of today (an earlier day only).",
        )

    @no_translations
    def handle(self, *args, zone, dry_run, today, **options):
        found = zone_from_option(zone, queryset=purge_zones())
        day = _day(today) if today else retention_today()
        bar = None
        if sys.stderr.isatty():
            total = videos_expired(zone=found, today=day).count()
            bar = tqdm(total=total, unit="rec", desc=f"purge {found.name}", file=sys.stderr)
        try:
            summary = videos_purge_expired(
                zone=found,
                today=day,
                dry_run=dry_run,
                progress=bar.update if bar else None,
                each=self._list if dry_run else None,
            )
        except PurgeError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(summary.line())
        if dry_run:
            self.stdout.write("Dry run: nothing was deleted or recorded.")
        else:
            self.stdout.write(f"freed {filesizeformat(summary.bytes_freed)}")
            for line in summary.problems:
                self.stdout.write(line)
            if summary.problem_count > len(summary.problems):
                more = summary.problem_count - len(summary.problems)
                self.stdout.write(f"… and {more} more (see the log)")
        if summary.problem_count:
            verb = "would not be" if dry_run else "were not"
            raise CommandError(
                f"{summary.problem_count} expired recording(s) {verb} deleted "
                f"({summary.refused} refused, {summary.failed} failed, {summary.differs} not "
                "the file their row describes): see above"
            )

    def _list(self, item) -> None:
        detail = filesizeformat(item.size) if item.outcome == Removal.WOULD_DELETE else item.reason
        self.stdout.write(f"{item.outcome.value:<12} id={item.video_id} {item.file_name} {detail}")
