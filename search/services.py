"""Writes of the search service: the access audit, legal holds with their audit, tokens,
notes on recordings.

Each takes an explicit ``actor`` (search.actors): who acts and from where, so a task or a
command writes the same audit rows a page does. A change and its audit row are written in
one transaction: no change goes unrecorded, and no row records a change that did not happen.
"""

import math
import secrets
from collections.abc import Iterable
from dataclasses import replace
from functools import cache

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, router, transaction
from django.db.models import NOT_PROVIDED
from django.utils import timezone
from django.utils.translation import gettext as _

from storage.models import Video, VideoNote
from storage.services import video_legal_hold_set
from storage.sql import insert_sql

from .actors import Actor
from .models import AccessEvent, ApiToken
from .moments import moment_format
from .review import video_note_may_delete


def _event(*, actor: Actor, action: str, account=None, **fields) -> AccessEvent:
    """An unsaved audit row of ``actor``'s ``action``.

    A row about an account rather than an access (a refused key, a deactivation) is filed
    under that ``account``: whose key or account it was is what an auditor looks up.
    """
    user = account if account is not None else actor.user
    return AccessEvent(
        user=user,
        username=user.get_username() if user is not None else "",
        action=action,
        via_api=actor.via_api,
        remote_addr=actor.address,
        user_agent=actor.user_agent[:255],
        **fields,
    )


def access_search_record(
    *, actor: Actor, query: dict, result_count: int, linked: Iterable[Video] = ()
) -> None:
    """Record a search and a view for each recording it handed a playable link for.

    A signed link is the only way to watch a recording, so issuing one is what the audit
    calls a view.
    """
    events = [
        _event(
            actor=actor,
            action=AccessEvent.Action.SEARCH,
            session_id=query.get("session", "")[:50],
            query=query,
            result_count=result_count,
        )
    ]
    events += [
        _event(
            actor=actor,
            action=AccessEvent.Action.VIEW,
            video_id=video.pk,
            session_id=video.session_id,
        )
        for video in linked
    ]
    _insert_in_one_statement(events)


def _insert_in_one_statement(events: list[AccessEvent]) -> None:
    """Write ``events`` with one multi-row INSERT, committed before this returns.

    ``bulk_create`` would wrap the statement in a transaction of its own (autocommit off,
    INSERT, COMMIT, autocommit on: four round trips), which a single statement does not
    need: in autocommit mode InnoDB commits it on its own, all rows or none, and inside a
    caller's transaction it simply joins that one. The values still go through each
    field's own conversion (``get_db_prep_save``), and the columns the database fills
    itself (``at``) are left to it.
    """
    connection = connections[router.db_for_write(AccessEvent)]
    fields = _audit_fields()
    sql = insert_sql(connection=connection, model=AccessEvent, fields=fields, rows=len(events))
    params = [
        field.get_db_prep_save(getattr(event, field.attname), connection)
        for event in events
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@cache
def _audit_fields() -> list:
    """The audit's columns an INSERT names: all but the key and those with a database default."""
    return [
        f
        for f in AccessEvent._meta.concrete_fields
        if not f.primary_key and f.db_default is NOT_PROVIDED
    ]


def access_video_record(
    *, actor: Actor, action: str, video: Video, detail: str = "", query: dict | None = None
) -> None:
    """``detail`` is a line (cut to its column's 255 characters); what must be kept whole
    (a note's text, up to 2,000) goes in ``query``."""
    _event(
        actor=actor,
        action=action,
        video_id=video.pk,
        session_id=video.session_id,
        detail=detail[:255],
        query=query or {},
    ).save()


def access_account_record(*, actor: Actor, account, action: str, detail: str) -> None:
    """Audit something that befell ``account`` (the row is filed under it), done by
    ``actor``: the system's directory sync, or a caller presenting the account's key."""
    _event(actor=actor, action=action, account=account, detail=detail[:255]).save()


@transaction.atomic
def legal_hold_change(*, actor: Actor, video: Video, hold: bool, reason: str) -> Video:
    """Place or lift a hold and audit it in the same transaction: no change goes unrecorded.

    The hold remembers who placed it and when (the page shows it); the audit rows of this
    recording's holds are its whole trail, lifts and their reasons included.
    """
    by = actor.user.get_username() if actor.user is not None else ""
    video = video_legal_hold_set(video=video, hold=hold, reason=reason, by=by)
    action = AccessEvent.Action.HOLD_PLACE if hold else AccessEvent.Action.HOLD_LIFT
    access_video_record(actor=actor, action=action, video=video, detail=reason.strip())
    return video


@transaction.atomic
def api_token_issue(*, user, label: str, actor: Actor | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``; the key is returned once and only its hash is kept.

    ``actor`` issues it: an admin, or (None, or an actor without a user) a script acting as
    the owner. Anyone may issue one for themselves; for anyone else only a superuser may:
    otherwise a staff user with the "add API token" permission could act through the API as
    any account, a superuser's included, and the audit would name the victim.
    """
    if actor is None or actor.user is None:
        actor = replace(actor or Actor(), user=user)
    issuer = actor.user
    if issuer.pk != user.pk and not issuer.is_superuser:
        raise PermissionDenied("only a superuser may issue an API token for another user")
    if not user.is_active:
        raise ValidationError(_("The user is inactive; a token for them would never work."))
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        label=label,
        key_hash=ApiToken.hash_key(key),
        prefix=key[:8],
        issued_by=issuer,
    )
    _event(
        actor=actor,
        action=AccessEvent.Action.TOKEN_ISSUE,
        detail=(
            _("%(prefix)s… for %(owner)s (%(label)s), valid until %(date)s")
            % {
                "prefix": token.prefix,
                "owner": user.get_username(),
                "label": label,
                "date": f"{timezone.localtime(token.expires_at):%Y-%m-%d}",
            }
        )[:255],
    ).save()
    return token, key


def access_token_refused_record(*, actor: Actor, token: ApiToken, reason: str) -> None:
    """Audit a known key that was refused: the token's owner, whose key it is, and why."""
    access_account_record(
        actor=actor,
        account=token.user,
        action=AccessEvent.Action.TOKEN_REFUSED,
        detail=f"{token.prefix}…: {reason}",
    )


# --- notes on recordings ----------------------------------------------------------------------

NOTE_MAX_LENGTH = 2000
# The browser's clock may run a little past the length ffprobe read (the last frame's
# duration, an audio tail): a note that close to the end is taken as at the end.
NOTE_END_SLACK = 1.0


def _note_detail(note: VideoNote) -> str:
    """The audit's line about a note: where it is, which it is, and its start (the whole
    text is in the row's query, ``_note_query``)."""
    return f"{moment_format(note.at_seconds)} ({note.at_seconds:.1f} s) #{note.pk}: {note.text}"


def _note_query(note: VideoNote) -> dict:
    """The note whole, as the audit keeps it: a deleted note's text must stay readable."""
    return {"note": note.pk, "at": note.at_seconds, "text": note.text}


@transaction.atomic
def video_note_add(*, actor: Actor, video: Video, at_seconds: float, text: str) -> VideoNote:
    """Write ``text`` at ``at_seconds`` of ``video`` as ``actor``, and audit it.

    The note and its audit row are written together or not at all. Bad input (no text, too
    long, a moment outside the recording, a deleted recording) is a ValidationError naming
    the field, and nothing is written.
    """
    if actor.user is None:
        raise PermissionDenied("a note needs an author")
    # Locked, and read again: the purge may have deleted the recording since the page was
    # read, and a note must not be written onto what it has just removed.
    video = Video.objects.select_for_update().get(pk=video.pk)
    if video.delete_date is not None:
        raise ValidationError(_("The recording was deleted: it takes no more notes."))
    text = text.strip()
    errors = {}
    if not text:
        errors["text"] = _("Write the note.")
    elif len(text) > NOTE_MAX_LENGTH:
        errors["text"] = _("A note holds at most %(limit)d characters; this one has %(count)d.") % {
            "limit": NOTE_MAX_LENGTH,
            "count": len(text),
        }
    if not math.isfinite(at_seconds) or at_seconds < 0:
        errors["at_seconds"] = _("The moment must be a time within the recording.")
    elif video.duration is not None and at_seconds > video.duration:
        if at_seconds - video.duration > NOTE_END_SLACK:
            errors["at_seconds"] = _(
                "The recording is only %(length)s long: the moment %(moment)s is past its end."
            ) % {"length": moment_format(video.duration), "moment": moment_format(at_seconds)}
        at_seconds = video.duration
    if errors:
        raise ValidationError(errors)
    note = VideoNote.objects.create(
        video=video,
        at_seconds=round(at_seconds, 3),
        text=text,
        author=actor.user,
        author_name=actor.user.get_username(),
    )
    access_video_record(
        actor=actor,
        action=AccessEvent.Action.NOTE_ADD,
        video=video,
        detail=_note_detail(note),
        query=_note_query(note),
    )
    return note


@transaction.atomic
def video_note_delete(*, actor: Actor, note: VideoNote) -> None:
    """Delete ``note`` and audit it (with the text that was removed), or refuse: only its
    author or a superuser may."""
    if not video_note_may_delete(user=actor.user, note=note):
        raise PermissionDenied(_("Only the note's author or an administrator may delete it."))
    access_video_record(
        actor=actor,
        action=AccessEvent.Action.NOTE_DELETE,
        video=note.video,
        detail=_note_detail(note),
        query=_note_query(note),
    )
    note.delete()
