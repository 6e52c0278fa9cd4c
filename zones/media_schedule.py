"""The zones' media-read entries in django-celery-beat's database schedule.

One entry per enabled zone, named after it («Чтение записей: kursk») and found by its task
and the zone's id (zones.beat): every ``OPVIDEO_MEDIA_INTERVAL_MINUTES``
beat sends the media read (new recordings' metadata and previews, storage.media) to the
zone's own queue, which only the worker on the zone's storage server consumes: it reads the
files there. Kept in step with the zone by the same services that keep its purge and
integrity-check entries (zones.services), and with ``manage.py sync_purge_schedules``. zones
knows no other app, so the task is named by the name storage.tasks registers it under.
"""

from __future__ import annotations

from django.utils.translation import gettext, pgettext_lazy

from .beat import ZoneEveryMinutes

MEDIA_SCHEDULE = ZoneEveryMinutes(
    task="storage.media_read_zone",
    prefix="opvideo.media_read_zone.",
    label=pgettext_lazy("beat entry", "Recordings read"),
    minutes_setting="OPVIDEO_MEDIA_INTERVAL_MINUTES",
    describe=lambda zone, minutes: (
        gettext(
            "Metadata and previews of the new recordings of zone %(zone)s every %(minutes)s min, "
            "made by the worker of its storage server (queue %(queue)s). Managed by the zone's "
            "page and OPVIDEO_MEDIA_INTERVAL_MINUTES: edit those, not this entry."
        )
        % {"zone": zone.name, "minutes": minutes, "queue": zone.purge_queue}
    ),
)
MEDIA_TASK_NAME = MEDIA_SCHEDULE.task
