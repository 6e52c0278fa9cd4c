"""Reads for the reviewer (search/_reviewer.html, player.js) and the recording's page: a
call's parts in order with their previews, the play endpoint's answer, the notes, the trail
of holds and who may place one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from storage.links import video_playable, video_preview_links
from storage.models import Video, VideoNote
from storage.retention import video_kept_until
from zones.local_time import local_short

from .listing import ResultRow, call_key, part_order, video_start_text
from .models import AccessEvent
from .moments import moment_format
from .selectors import videos_zones_attach
from .session_ids import session_id_q

HOLD_PERMISSION = "manage_legal_hold"


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


def video_preview_json(*, video: Video) -> dict:
    """What the player shows of a part before and while seeking: ``poster`` (a signed link
    or null), ``sprite`` (a signed link to the thumbnail strip or null) and ``preview`` (its
    geometry, ``{interval, tile_width, tile_height, columns, count}``, or null). Signing
    one gives no way to the recording itself: each link's token covers its own path."""
    links = video_preview_links(video=video)
    return {
        "poster": links.poster if links else None,
        "sprite": links.sprite if links else None,
        "preview": video.preview if links else None,
    }


def video_call_parts(*, video: Video, limit: int = 50) -> list[Video]:
    """The recordings of ``video``'s call (its session id: a transferred call has a part per
    operator) in the order they were recorded, ``video`` among them, zones attached."""
    # The same rule as the table's numbering: one call whatever case each part's id was
    # written in (a case-sensitive column, as SQLite's under make run, would split it).
    same_call = session_id_q(value=video.session_id)
    videos = list(Video.objects.filter(same_call).order_by("id")[:limit])
    if video.pk not in {v.pk for v in videos}:
        videos.append(video)
    return sorted(videos_zones_attach(videos=videos), key=part_order)


def part_label(*, video: Video, number: int, total: int) -> str:
    """``Part 1 of 2 · op101 · 26.11.2026 14:02:40``: which part (for a call of several),
    who, when it began (its day only when the start time is not known yet). The day too:
    the search page's player holds the parts of calls of many days."""
    began = video_start_text(video=video)
    pieces = [_("Part %(number)d of %(total)d") % {"number": number, "total": total}]
    pieces = (pieces if total > 1 else []) + [video.who, began]
    if video.delete_date:
        pieces.append(pgettext("part", "deleted"))
    return " · ".join(p for p in pieces if p)


def reviewer_part(*, video: Video, number: int, total: int, url: str | None = None) -> dict:
    """One part as the reviewer (search/_reviewer.html, player.js) takes it.

    ``url`` is the signed play link where it has already been handed out (and audited): on
    the recording's own page. Elsewhere it is null, and the player asks ``play`` for one when
    the part is actually played. ``call`` names the part's call (its session id in lower
    case, as the search groups them; a row without one is a call of its own): the player
    goes on to the next part only within it, never into another call's recording.
    """
    return {
        "id": video.pk,
        "call": call_key(video) or f"video-{video.pk}",
        "play": reverse("search:play", args=[video.pk]),
        "page": reverse("search:video", args=[video.pk]),
        "notes": reverse("search:notes", args=[video.pk]),
        "label": part_label(video=video, number=number, total=total),
        "duration": video.duration,
        "playable": url is not None or video_playable(video=video),
        "url": url,
        **video_preview_json(video=video),
    }


def video_title(*, video: Video) -> str:
    """What the call was, in a line: ``Call of 27.11.2026, 10:15 · op101``."""
    who = video.who
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
    """An aware time as the pages show it (zones.local_time.local_short), None kept for the
    templates to tell "none"."""
    return None if value is None else local_short(value)


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


def search_parts(*, rows: Iterable[ResultRow]) -> list[dict]:
    """The parts the search page's one player plays, in the table's order, numbered in
    their calls. No signed link to a recording: the player asks the play endpoint for one
    when a part is played, which is what the audit records as a view. Of the previews only
    the poster (one frame) is signed here; the thumbnail strip, which shows the whole call,
    comes with the play answer."""
    parts = []
    for row in rows:
        part = reviewer_part(video=row.video, number=row.part, total=row.parts)
        parts.append({**part, "sprite": None, "preview": None})
    return parts
