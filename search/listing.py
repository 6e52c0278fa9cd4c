"""A page of search results as the table shows it: each call's parts together and numbered
in order, each recording's start, length, who recorded it and how long it is kept, and the
parts list the page's one player plays (search/_reviewer.html)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from storage.links import video_playable
from storage.models import Video
from storage.retention import video_kept_until

from .integrity import FAILED, IntegrityState
from .moments import moment_format


@dataclass(frozen=True)
class ResultRow:
    video: Video
    index: int = 0  # its place in the page's table and in the player's parts list
    part: int = 1  # its place among the call's recordings, by start time
    parts: int = 1  # the call's recordings, on every page
    play_url: str | None = None  # the API's signed link; the pages hand out none when listing

    @property
    def started(self) -> datetime | None:
        """When the recording began, in TIME_ZONE; None when only its date is known."""
        return timezone.localtime(self.video.started_at) if self.video.started_at else None

    @property
    def start_text(self) -> str:
        return video_start_text(video=self.video)

    @property
    def duration_text(self) -> str:
        return duration_text(self.video.duration)

    @property
    def kept_until(self) -> date | None:
        """The last day the retention rule keeps it; None once deleted or while held."""
        video = self.video
        if video.delete_date or video.legal_hold:
            return None
        return video_kept_until(video=video)

    @property
    def state_text(self) -> str:
        video = self.video
        if video.delete_date:
            day = formats.date_format(video.delete_date, "SHORT_DATE_FORMAT")
            return _("deleted on %(date)s") % {"date": day}
        if video.legal_hold:
            return _("kept while on hold")
        kept_until = self.kept_until
        if kept_until < timezone.localdate():
            return _("retention over: to be deleted")
        day = formats.date_format(kept_until, "SHORT_DATE_FORMAT")
        return _("kept until %(date)s") % {"date": day}

    @property
    def integrity_failed(self) -> bool:
        return IntegrityState.of(self.video).state == FAILED

    @property
    def playable(self) -> bool:
        """Whether the play endpoint will hand out a link (without signing one here)."""
        return video_playable(video=self.video)

    @property
    def project_short(self) -> str:
        """A 32-character project id shortened to what tells them apart (their ends): the
        full id is in the cell's title and on the recording's page."""
        project = self.video.project_id or ""
        return f"{project[:6]}…{project[-8:]}" if len(project) > 16 else project


def duration_text(seconds: float | None) -> str:
    """``m:ss`` or ``h:mm:ss`` as the player's clock shows it; a dash when not known (the
    zone worker has not read it)."""
    return "—" if seconds is None else moment_format(seconds)


def video_start_text(*, video: Video) -> str:
    """When the recording began, ``26.11.2026 14:02:40`` in TIME_ZONE; only its day when the
    start time is not known yet. The day is the start's own: for a call that crossed
    midnight the recording date may be the next one."""
    if video.started_at is None:
        return formats.date_format(video.recording_date, "SHORT_DATE_FORMAT")
    local = timezone.localtime(video.started_at)
    return f"{formats.date_format(local.date(), 'SHORT_DATE_FORMAT')} {local:%H:%M:%S}"


def part_order(video: Video) -> tuple:
    """A call's parts in order: by start time, where unknown by the recording's day."""
    started = video.started_at or timezone.make_aware(
        datetime.combine(video.recording_date, time())
    )
    return (started, video.pk)


def call_key(video: Video) -> str | None:
    """What makes recordings one call; None for a row without a session id (legacy rows),
    which is a call of its own."""
    return video.session_id.strip().lower() or None


def calls_numbering(
    *, videos: Iterable[Video], complete: bool = False
) -> dict[int, tuple[int, int]]:
    """``{video id: (part, parts)}``: each recording's place among all its call's recordings,
    not just those on the page.

    One query, on the SESSIONID index, for the page's session ids; none when ``complete``
    says the page already holds every recording of its calls (a search by one whole session
    id that fit on one page).
    """
    videos = list(videos)
    keys = {call_key(video) for video in videos} - {None}
    if complete:
        calls = videos
    elif keys:
        # The ids as stored: an index lookup whether or not the column ignores case.
        spellings = sorted({video.session_id for video in videos if call_key(video)})
        calls = Video.objects.filter(session_id__in=spellings).only(
            "id", "session_id", "recording_date", "started_at"
        )
    else:
        calls = []
    by_call: dict[str, list[Video]] = defaultdict(list)
    for video in calls:
        key = call_key(video)
        if key in keys:
            by_call[key].append(video)
    numbering = {}
    for members in by_call.values():
        members.sort(key=part_order)
        for n, member in enumerate(members, 1):
            numbering[member.pk] = (n, len(members))
    return numbering


def rows_by_call(
    *, videos: list[Video], numbering: dict[int, tuple[int, int]], play_urls: dict | None = None
) -> list[list[ResultRow]]:
    """The page's recordings as calls: a call where its first recording is in the page's
    order (newest first), its parts together and in order; each row numbered."""
    groups: dict[object, list[Video]] = {}
    for video in videos:
        groups.setdefault(call_key(video) or ("row", video.pk), []).append(video)
    calls, index = [], 0
    for members in groups.values():
        members.sort(key=part_order)
        call = []
        for video in members:
            part, parts = numbering.get(video.pk, (1, 1))
            url = (play_urls or {}).get(video.pk)
            call.append(ResultRow(video=video, index=index, part=part, parts=parts, play_url=url))
            index += 1
        calls.append(call)
    return calls
