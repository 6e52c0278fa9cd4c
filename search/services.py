"""Writes of the search service: the access audit, legal holds with their audit, tokens.

Each takes an explicit ``actor`` (search.actors): who acts and from where, so a task or a
command writes the same audit rows a page does. A change and its audit row are written in
one transaction: no change goes unrecorded, and no row records a change that did not happen.
"""

import secrets
from collections.abc import Iterable
from dataclasses import replace
from functools import cache

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, router, transaction
from django.db.models import NOT_PROVIDED
from django.utils import timezone
from django.utils.translation import gettext as _

from storage.models import Video
from storage.services import video_legal_hold_set
from storage.sql import insert_sql

from .actors import Actor
from .models import AccessEvent, ApiToken


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


def access_video_record(*, actor: Actor, action: str, video: Video, detail: str = "") -> None:
    _event(
        actor=actor,
        action=action,
        video_id=video.pk,
        session_id=video.session_id,
        detail=detail[:255],
    ).save()


def access_account_record(*, actor: Actor, account, action: str, detail: str) -> None:
    """Audit something that befell ``account`` (the row is filed under it), done by
    ``actor``: the system's directory sync, or a caller presenting the account's key."""
    _event(actor=actor, action=action, account=account, detail=detail[:255]).save()


@transaction.atomic
def legal_hold_change(*, actor: Actor, video: Video, hold: bool, reason: str) -> Video:
    """Place or lift a hold and audit it in the same transaction: no change goes unrecorded."""
    video = video_legal_hold_set(video=video, hold=hold, reason=reason)
    action = AccessEvent.Action.HOLD_PLACE if hold else AccessEvent.Action.HOLD_LIFT
    access_video_record(actor=actor, action=action, video=video, detail=reason)
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
