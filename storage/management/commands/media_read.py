"""`manage.py media_read --zone Z [--limit N]`: the zone's media read, by hand.

Run it on the zone's storage server (where PATH_DST is mounted and ffmpeg installed), as the
worker would. The work is in storage.media; this parses and prints one line. Exit status 0
when it ran (recordings it could not read are counted and marked, not an error of the run),
1 with one line on bad input or when it could not run.
"""

from django.core.management.base import BaseCommand, CommandError, no_translations
from django.utils import timezone

from storage.management.limit_option import limit_from_option, limit_option_add
from storage.media.read import MediaReadError, videos_media_read
from storage.retention import purge_zones
from zones.management.zone_option import zone_from_option, zone_option_add


class Command(BaseCommand):
    help = (
        "Read the zone's recordings not read yet (ffprobe: duration, picture size, codec; the "
        "call's start and operator from the name or the file) and make their previews "
        "(ffmpeg: poster, thumbnail sprite and its WebVTT index under PATH_DST/.previews). "
        "Newest first, at most --limit (OPVIDEO_MEDIA_RUN_LIMIT) and OPVIDEO_MEDIA_RUN_SECONDS."
    )

    def add_arguments(self, parser):
        zone_option_add(parser)
        limit_option_add(parser, what="Read")

    @no_translations
    def handle(self, *args, zone, limit, **options):
        found = zone_from_option(zone, queryset=purge_zones())
        count = limit_from_option(limit)
        try:
            summary = videos_media_read(zone=found, now=timezone.now(), limit=count)
        except MediaReadError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(summary.line())
