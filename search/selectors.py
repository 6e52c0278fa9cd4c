"""Reads for the search pages and the API: the search (filters to a page of rows with
their play links) and the API's JSON of it."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from storage.links import video_link, video_preview_links
from storage.models import Video, VideoNote
from storage.retention import video_kept_until
from zones.models import Zone
from zones.selectors import zones_by_id

from .integrity import IntegrityState
from .models import AccessEvent
from .moments import moment_format

HOLD_PERMISSION = "manage_legal_hold"


@dataclass(frozen=True)
class VideoFilters:
    session_id: str = ""
    project_id: str = ""
    date_from: date | None = None
    date_to: date | None = None
    zone: Zone | None = None

    def is_empty(self) -> bool:
        return not (self.session_id or self.project_id or self.date_from or self.date_to)

    def as_query(self) -> dict[str, str]:
        """The filters as the audit stores them."""
        query = {
            "session": self.session_id,
            "project": self.project_id,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "zone": self.zone.name if self.zone else "",
        }
        return {k: v for k, v in query.items() if v}


def video_search(*, filters: VideoFilters) -> QuerySet[Video]:
    """Recordings matching every given filter, newest first.

    The session and project ids are exact matches so MariaDB uses their indexes. Zones are
    neither joined nor prefetched: ``videos_zones_attach`` gives the rows of a page theirs
    without a query (a join also led MariaDB to scan all of VIDEO for a date range).
    """
    qs = Video.objects.all()
    if filters.session_id:
        qs = qs.filter(session_id=filters.session_id)
    if filters.project_id:
        qs = qs.filter(project_id=filters.project_id)
    if filters.date_from:
        qs = qs.filter(recording_date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(recording_date__lte=filters.date_to)
    if filters.zone:
        qs = qs.filter(zone=filters.zone)
    return qs.order_by("-recording_date", "-id")


def videos_zones_attach(*, videos: list[Video]) -> list[Video]:
    """Set each recording's zone (without its ssh key) from ``zones_by_id``; no query in
    the common case, and never one per recording."""
    zones = zones_by_id(ids={video.zone_id for video in videos})
    for video in videos:
        video.zone = zones[video.zone_id]
    return videos


class ShortResultPaginator(Paginator):
    """A paginator that spares the COUNT(*) when the first page is all there is.

    Almost every search is one call's session id: a handful of rows. Reading one row more
    than a page tells whether more exist; only then is a count needed.
    """

    _head: list | None = None

    @cached_property
    def count(self) -> int:
        self._head = list(self.object_list[: self.per_page + 1])
        if len(self._head) <= self.per_page:
            return len(self._head)
        return self.object_list.count()

    def page(self, number):
        number = self.validate_number(number)  # reads count, and so the first rows
        if number == 1 and self._head is not None:
            return self._get_page(self._head[: self.per_page], number, self)
        return super().page(number)


@dataclass(frozen=True)
class ResultRow:
    video: Video
    play_url: str | None  # None: it cannot be watched (deleted, or its zone serves no links)


@dataclass(frozen=True)
class SearchPage:
    page: Page
    rows: list[ResultRow]

    @property
    def count(self) -> int:
        """All the recordings found, on every page."""
        return self.page.paginator.count

    @property
    def linked(self) -> list[Video]:
        """The recordings of this page handed a playable link: what the audit calls viewed."""
        return [row.video for row in self.rows if row.play_url]


def video_search_page(*, filters: VideoFilters, page_number, page_size: int) -> SearchPage:
    """The page ``page_number`` (as given: a bad one is the first or the last page) of the
    recordings matching ``filters``, each with its signed play link."""
    paginator = ShortResultPaginator(video_search(filters=filters), page_size)
    page = paginator.get_page(page_number)
    videos = videos_zones_attach(videos=list(page.object_list))
    return SearchPage(
        page=page, rows=[ResultRow(video=v, play_url=video_link(video=v)) for v in videos]
    )


def video_json(*, row: ResultRow, absolute_url: Callable[[str], str]) -> dict:
    """One recording as the API gives it; ``absolute_url`` makes a path a full URL (the
    request's ``build_absolute_uri``)."""
    v = row.video
    return {
        "id": v.pk,
        "zone": v.zone.name,
        "session_id": v.session_id,
        "project_id": v.project_id,
        "file_name": v.file_name,
        "recording_date": v.recording_date.isoformat(),
        "size": v.size,
        "legal_hold": v.legal_hold,
        "deleted_on": v.delete_date.isoformat() if v.delete_date else None,
        # The zone worker's last re-reading of the file against its hash, and where the
        # hash was taken (on storage: weaker evidence than on the workstation).
        "integrity": IntegrityState.of(v).as_json(),
        "url": row.play_url,
        # The audited download view, not a signed link: a download must leave a trace.
        "download_url": (
            absolute_url(reverse("search:download", args=[v.pk])) if row.play_url else None
        ),
    }


def search_page_json(*, found: SearchPage, absolute_url: Callable[[str], str]) -> dict:
    """A page of results as the API gives it."""
    return {
        "count": found.count,
        "page": found.page.number,
        "pages": found.page.paginator.num_pages,
        "results": [video_json(row=row, absolute_url=absolute_url) for row in found.rows],
    }


def video_play_json(*, video: Video, url: str) -> dict:
    """What the player needs to play one part, with its freshly signed ``url``.

    The contract of ``search:play`` (search/static/search/player.js reads it): ``id``,
    ``url`` (signed play link), ``download_url`` (the audited download view), ``page`` (the
    recording's page), ``duration`` (seconds or null), ``started_at`` (ISO or null),
    ``poster``, ``sprite`` and ``preview`` (see ``video_preview_json``), ``notes`` (the
    URL of the part's notes).
    """
    return {
        "id": video.pk,
        "url": url,
        "download_url": reverse("search:download", args=[video.pk]),
        "page": reverse("search:video", args=[video.pk]),
        "duration": video.duration,
        "started_at": video.started_at.isoformat() if video.started_at else None,
        # The previews and the notes of the part (see reviewer_part).
        **video_preview_json(video=video),
        "notes": reverse("search:notes", args=[video.pk]),
    }


# --- the reviewer and the video page: a call's parts, notes, holds ----------------------------


def video_operator(*, video: Video) -> str:
    """Who was at the screen: the operator's login where the file name gives it, else the
    workstation's name."""
    return video.operator or video.workstation


def video_preview_json(*, video: Video) -> dict:
    """What the player shows of a part before and while seeking: ``poster`` (a signed link
    or null), ``sprite`` (a signed link to the thumbnail strip or null) and ``preview`` (its
    geometry, ``{interval, tile_width, tile_height, columns, count}``, or null)."""
    links = video_preview_links(video=video) if video.delete_date is None else {}
    sprite = links.get("sprite")
    return {
        "poster": links.get("poster"),
        "sprite": sprite,
        "preview": video.preview if sprite and video.preview else None,
    }


def _recorded_order(video: Video) -> tuple:
    """When a part began (its start time, else the start of its recording day), then id."""
    began = video.started_at or timezone.make_aware(
        datetime.combine(video.recording_date, time.min)
    )
    return (began, video.pk)


def video_call_parts(*, video: Video, limit: int = 50) -> list[Video]:
    """The recordings of ``video``'s call (its session id: a transferred call has a part per
    operator) in the order they were recorded, ``video`` among them, zones attached."""
    videos = list(Video.objects.filter(session_id=video.session_id).order_by("id")[:limit])
    if video.pk not in {v.pk for v in videos}:
        videos.append(video)
    return sorted(videos_zones_attach(videos=videos), key=_recorded_order)


def part_label(*, video: Video, number: int, total: int) -> str:
    """``Part 1 of 2 · op101 · 14:02:40``: which part, who, when it began (its date when the
    start time is not known yet)."""
    if video.started_at:
        began = f"{timezone.localtime(video.started_at):%H:%M:%S}"
    else:
        began = formats.date_format(video.recording_date, "SHORT_DATE_FORMAT")
    pieces = [_("Part %(number)d of %(total)d") % {"number": number, "total": total}]
    pieces += [video_operator(video=video), began]
    if video.delete_date:
        pieces.append(pgettext("part", "deleted"))
    return " · ".join(p for p in pieces if p)


def reviewer_part(*, video: Video, number: int, total: int, url: str | None = None) -> dict:
    """One part as the reviewer (search/_reviewer.html, player.js) takes it.

    ``url`` is the signed play link where it has already been handed out (and audited): on
    the recording's own page. Elsewhere it is null, and the player asks ``play`` for one when
    the part is actually played.
    """
    return {
        "id": video.pk,
        "play": reverse("search:play", args=[video.pk]),
        "page": reverse("search:video", args=[video.pk]),
        "notes": reverse("search:notes", args=[video.pk]),
        "label": part_label(video=video, number=number, total=total),
        "duration": video.duration,
        "playable": url is not None or video_link(video=video) is not None,
        "url": url,
        **video_preview_json(video=video),
    }


def video_title(*, video: Video) -> str:
    """What the call was, in a line: ``Call of 27.11.2026, 10:15 · op101``."""
    who = video_operator(video=video)
    if video.started_at:
        began = timezone.localtime(video.started_at)
        title = _("Call of %(date)s, %(time)s") % {
            "date": formats.date_format(began.date(), "SHORT_DATE_FORMAT"),
            "time": f"{began:%H:%M}",
        }
    else:
        day = formats.date_format(video.recording_date, "SHORT_DATE_FORMAT")
        title = _("Call of %(date)s") % {"date": day}
    return f"{title} · {who}" if who else title


def video_note_may_delete(*, user, note: VideoNote) -> bool:
    """A note is its author's to take back; a superuser may remove anyone's."""
    return user is not None and (user.is_superuser or note.author_id == user.pk)


def video_notes(*, video: Video) -> list[VideoNote]:
    """The notes on ``video`` in the order of their moments."""
    return list(VideoNote.objects.filter(video=video).order_by("at_seconds", "id"))


def note_json(*, note: VideoNote, user) -> dict:
    """A note as the page and the player show it; ``delete`` is its delete URL when ``user``
    may delete it, else null."""
    return {
        "id": note.pk,
        "at": note.at_seconds,
        "moment": moment_format(note.at_seconds),
        "text": note.text,
        "author": note.author_name,
        "created": local_datetime_text(note.created_at),
        "delete": (
            reverse("search:note-delete", args=[note.video_id, note.pk])
            if video_note_may_delete(user=user, note=note)
            else None
        ),
    }


def video_notes_json(*, video: Video, user) -> dict:
    """The notes of a recording for the player; ``add`` is where a new one is posted, null
    once the recording is deleted (it takes no more)."""
    return {
        "notes": [note_json(note=n, user=user) for n in video_notes(video=video)],
        "add": None if video.delete_date else reverse("search:notes", args=[video.pk]),
    }


HOLD_ACTIONS = (AccessEvent.Action.HOLD_PLACE, AccessEvent.Action.HOLD_LIFT)


def local_datetime_text(value: datetime | None) -> str | None:
    """An aware time as the pages show it: in TIME_ZONE, the locale's short format."""
    if value is None:
        return None
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


@dataclass(frozen=True)
class HoldTrailEntry:
    at: datetime
    at_text: str
    username: str
    placed: bool  # placed, or lifted
    reason: str


def video_hold_trail(*, video: Video, limit: int = 100) -> list[HoldTrailEntry]:
    """Every hold placed on ``video`` and lifted from it, newest first, from the audit.

    Filtered by the session id too: the audit is indexed by it (not by recording), so this
    reads the few rows of one call rather than scanning the audit.
    """
    events = AccessEvent.objects.filter(
        session_id=video.session_id, video_id=video.pk, action__in=HOLD_ACTIONS
    ).order_by("-at", "-id")[:limit]
    return [
        HoldTrailEntry(
            at=e.at,
            at_text=local_datetime_text(e.at),
            username=e.username,
            placed=e.action == AccessEvent.Action.HOLD_PLACE,
            reason=e.detail,
        )
        for e in events
    ]


@dataclass(frozen=True)
class HoldGranters:
    """Who may place a hold, for a user who may not: a few names and the group's name."""

    group: str
    names: list[str]
    more: int  # how many others beyond ``names``


def hold_granters(*, limit: int = 5) -> HoldGranters:
    """The active users who may place and lift holds: the hold group's members and those
    given the permission, directly or through a group (superusers, the administrators, are
    not named)."""
    may_hold = (
        Q(groups__name=settings.OPVIDEO_HOLD_GROUP)
        | Q(
            user_permissions__codename=HOLD_PERMISSION,
            user_permissions__content_type__app_label="storage",
        )
        | Q(
            groups__permissions__codename=HOLD_PERMISSION,
            groups__permissions__content_type__app_label="storage",
        )
    )
    users = (
        get_user_model()
        .objects.filter(may_hold, is_active=True, is_superuser=False)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )
    chosen = list(users[:limit])
    total = len(chosen) if len(chosen) < limit else users.count()
    return HoldGranters(
        group=settings.OPVIDEO_HOLD_GROUP,
        names=[u.get_full_name() or u.get_username() for u in chosen],
        more=total - len(chosen),
    )


@dataclass(frozen=True)
class VideoPage:
    """What the recording's page shows beside the recording's own row."""

    title: str
    started: str | None  # local time
    duration: str | None  # as the player's clock shows it, ``1:02:03``
    hold_placed: str | None  # local time
    parts: list[dict]
    start_index: int
    kept_until: date
    notes: list[dict]
    hold_trail: list[HoldTrailEntry]
    hold_granters: HoldGranters | None  # only for a user who may not hold


def video_page(*, video: Video, url: str | None, user, may_hold: bool) -> VideoPage:
    """The recording's page: its call's parts (this one with its signed ``url``), its
    notes, its retention date and the trail of its holds."""
    videos = video_call_parts(video=video)
    parts = [
        reviewer_part(video=v, number=n, total=len(videos), url=url if v.pk == video.pk else None)
        for n, v in enumerate(videos, start=1)
    ]
    return VideoPage(
        title=video_title(video=video),
        started=local_datetime_text(video.started_at),
        duration=moment_format(video.duration) if video.duration is not None else None,
        hold_placed=local_datetime_text(video.legal_hold_at),
        parts=parts,
        start_index=next(i for i, v in enumerate(videos) if v.pk == video.pk),
        kept_until=video_kept_until(video=video),
        notes=[note_json(note=n, user=user) for n in video_notes(video=video)],
        hold_trail=video_hold_trail(video=video),
        hold_granters=None if may_hold else hold_granters(),
    )
