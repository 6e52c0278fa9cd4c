"""The hourly re-reading of the directory's users: whoever the directory no longer lets in
loses the account here too, within the hour rather than at the end of a 12-hour session.

For every active user marked as the directory's (search.models.DirectoryAccount) the sync
asks the directory what a sign-in would: is the account found by the user filter (which
leaves out accounts disabled in AD), and is it in LDAP_SEARCH_GROUP. One that is not is
deactivated, every session of theirs ended, their API tokens revoked, and the audit says so.
Those still allowed keep their account; their staff/superuser flags and mirrored groups are
brought in line with the directory, as a sign-in would.

Safety first: the whole directory is read before anything is changed. A directory that
cannot be reached, refuses the bind or answers a search with an error changes nothing and
raises DirectoryUnavailable (an outage must never read as "everyone has left"), and so does
a run that would deactivate an implausibly large share of the users (SyncRefused).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib import import_module

import ldap
import ldap.dn
import ldap.filter
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_auth_ldap.config import LDAPSearch, MemberDNGroupType

from .models import AccessEvent, ApiToken, DirectoryAccount

logger = logging.getLogger(__name__)

# userAccountControl's ACCOUNTDISABLE bit, as in opvideo.directory.DEFAULT_USER_FILTER.
ACCOUNT_DISABLED = 2
# However small the share, this many departures in one run are always allowed.
MIN_ALLOWED_DEACTIVATIONS = 3


class DirectoryUnavailable(Exception):
    """The directory could not be read completely; nothing was changed."""


class SyncRefused(Exception):
    """The run would deactivate too many users to be believed; nothing was changed."""


@dataclass
class Verdict:
    account: DirectoryAccount
    dn: str = ""
    reason: str = ""  # why the directory no longer lets the user in; empty: still allowed
    groups: dict[str, str] = field(default_factory=dict)  # normalised DN -> group name


@dataclass
class SyncResult:
    checked: int = 0
    deactivated: list[tuple[str, str]] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "checked": self.checked,
            "deactivated": [name for name, _reason in self.deactivated],
            "updated": self.updated,
        }


def directory_users_sync(*, force: bool = False) -> SyncResult:
    """Re-read every active directory user and apply what the directory says (module doc)."""
    if not getattr(settings, "AUTH_LDAP_SERVER_URI", ""):
        raise ImproperlyConfigured("no directory is configured (LDAP_SERVER_URI is empty)")
    accounts = list(
        DirectoryAccount.objects.select_related("user")
        .filter(user__is_active=True)
        .order_by("user__username")
    )
    verdicts = _read_directory(accounts)  # raises before anything is changed
    leaving = [v for v in verdicts if v.reason]
    limit = max(
        MIN_ALLOWED_DEACTIVATIONS, int(len(verdicts) * settings.OPVIDEO_DIRECTORY_SYNC_MAX_SHARE)
    )
    if len(leaving) > limit and not force:
        raise SyncRefused(
            f"{len(leaving)} of {len(verdicts)} directory users would be deactivated, more "
            f"than the {limit} OPVIDEO_DIRECTORY_SYNC_MAX_SHARE allows; nothing was changed. "
            "Check LDAP_SEARCH_GROUP and LDAP_USER_FILTER; if it is right, run "
            "`manage.py sync_directory_users --force`."
        )
    result = SyncResult(checked=len(verdicts))
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        now = timezone.now()
        sessions = _sessions_of({v.account.user_id for v in leaving})
        for verdict in verdicts:
            if verdict.reason:
                _deactivate(verdict, now=now, sessions=sessions.get(verdict.account.user_id, []))
                result.deactivated.append((verdict.account.user.get_username(), verdict.reason))
            elif _mirror(verdict, now=now):
                result.updated.append(verdict.account.user.get_username())
    for name, reason in result.deactivated:
        logger.warning("directory sync deactivated %s: %s", name, reason)
    return result


# --- Reading -----------------------------------------------------------------------------------


def _read_directory(accounts: list[DirectoryAccount]) -> list[Verdict]:
    search = _user_search()
    try:
        conn = _connect()
        try:
            required = _required_group(conn)
            return [_verdict(conn, search, account, required) for account in accounts]
        finally:
            conn.unbind_s()
    except ldap.LDAPError as exc:
        logger.error("directory sync: the directory could not be read: %r", exc)
        raise DirectoryUnavailable(
            f"the directory could not be read, nothing changed: {exc!r}"
        ) from exc


def _connect():
    """A connection bound as the service account, set up as django-auth-ldap sets its own."""
    for option, value in getattr(settings, "AUTH_LDAP_GLOBAL_OPTIONS", {}).items():
        ldap.set_option(option, value)
    conn = ldap.initialize(settings.AUTH_LDAP_SERVER_URI, bytes_mode=False)
    for option, value in getattr(settings, "AUTH_LDAP_CONNECTION_OPTIONS", {}).items():
        conn.set_option(option, value)
    if getattr(settings, "AUTH_LDAP_START_TLS", False):
        conn.start_tls_s()
    conn.simple_bind_s(
        getattr(settings, "AUTH_LDAP_BIND_DN", ""), getattr(settings, "AUTH_LDAP_BIND_PASSWORD", "")
    )
    return conn


def _user_search() -> LDAPSearch:
    search = getattr(settings, "AUTH_LDAP_USER_SEARCH", None)
    if not isinstance(search, LDAPSearch):
        raise ImproperlyConfigured("the directory sync needs AUTH_LDAP_USER_SEARCH (one search)")
    return search


def _required_group(conn) -> str | None:
    """LDAP_SEARCH_GROUP, normalised, after checking that it exists: a group renamed or
    mistyped would otherwise read as every user having left it."""
    group = getattr(settings, "AUTH_LDAP_REQUIRE_GROUP", None)
    if group is None:
        return None
    if not isinstance(group, str):
        raise ImproperlyConfigured("the directory sync understands one LDAP_SEARCH_GROUP DN")
    try:
        conn.search_s(group, ldap.SCOPE_BASE, "(objectClass=*)", ["1.1"])
    except ldap.NO_SUCH_OBJECT as exc:
        raise DirectoryUnavailable(
            f"LDAP_SEARCH_GROUP {group!r} is not in the directory; nothing changed"
        ) from exc
    return _normal_dn(group)


def _verdict(conn, search: LDAPSearch, account: DirectoryAccount, required: str | None) -> Verdict:
    backend_name = account.user.get_username()
    filterstr = search.filterstr % {"user": ldap.filter.escape_filter_chars(backend_name)}
    found = _entries(conn.search_s(search.base_dn, search.scope, filterstr, ["1.1"]))
    if len(found) > 1:
        return Verdict(account=account, reason=_("several directory entries match the account"))
    if not found:
        return Verdict(account=account, reason=_why_not_found(conn, account.dn))
    dn = found[0][0]
    verdict = Verdict(account=account, dn=dn, groups=_groups_of(conn, dn))
    if required is not None and required not in verdict.groups:
        verdict.reason = _("no longer in the group %(group)s") % {
            "group": settings.AUTH_LDAP_REQUIRE_GROUP
        }
    return verdict


def _why_not_found(conn, dn: str) -> str:
    """Why the user filter no longer finds the account, from the entry it had at sign-in."""
    if not dn:
        return _("not found in the directory")
    try:
        entries = _entries(
            conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["userAccountControl"])
        )
    except ldap.NO_SUCH_OBJECT:
        return _("removed from the directory")
    flags = entries[0][1].get("userAccountControl", [b"0"]) if entries else [b"0"]
    try:
        disabled = int(flags[0]) & ACCOUNT_DISABLED
    except ValueError:
        disabled = 0
    if disabled:
        return _("disabled in the directory")
    return _("no longer found by the directory's user filter")


def _groups_of(conn, dn: str) -> dict[str, str]:
    """The groups that list ``dn`` as a member, found as django-auth-ldap finds them."""
    group_type = settings.AUTH_LDAP_GROUP_TYPE
    group_search = settings.AUTH_LDAP_GROUP_SEARCH
    if not isinstance(group_type, MemberDNGroupType) or not isinstance(group_search, LDAPSearch):
        raise ImproperlyConfigured("the directory sync reads groups that list members by DN")
    term = f"({group_type.member_attr}={ldap.filter.escape_filter_chars(dn)})"
    found = _entries(
        conn.search_s(
            group_search.base_dn,
            group_search.scope,
            f"(&{group_search.filterstr}{term})",
            [group_type.name_attr],
        )
    )
    groups = {}
    for group_dn, attrs in found:
        names = attrs.get(group_type.name_attr) or []
        if names:
            groups[_normal_dn(group_dn)] = names[0].decode()
    return groups


def _entries(results) -> list:
    # With referrals off, AD still lists them, as entries without a DN.
    return [(dn, attrs) for dn, attrs in results if dn is not None]


def _normal_dn(dn: str) -> str:
    return ldap.dn.dn2str(ldap.dn.str2dn(dn.lower()))


# --- Applying --------------------------------------------------------------------------------


def _sessions_of(user_ids: set[int]) -> dict[int, list[str]]:
    """Session keys of these users, where the sessions are kept in the database.

    With other engines (cache, signed cookies) sessions cannot be listed; they end all the
    same: the user's password hash changes at deactivation, and Django drops a session whose
    hash no longer matches (and DirectoryBackend does not honour an inactive user).
    """
    if not user_ids or settings.SESSION_ENGINE not in (
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    ):
        return {}
    from django.contrib.sessions.models import Session

    wanted = {str(pk) for pk in user_ids}
    found: dict[int, list[str]] = {}
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        owner = session.get_decoded().get("_auth_user_id")
        if owner in wanted:
            found.setdefault(int(owner), []).append(session.session_key)
    return found


def _deactivate(verdict: Verdict, *, now, sessions: list[str]) -> None:
    user = verdict.account.user
    user.is_active = False
    # A new unusable password changes the session hash: every session of the user, in any
    # session engine, stops working at its next request.
    user.set_unusable_password()
    user.save(update_fields=["is_active", "password"])
    revoked = ApiToken.objects.filter(user=user, revoked=False).update(revoked=True)
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in sessions:
        store(session_key=key).delete()
    account = verdict.account
    account.deactivated_at = now
    account.synced_at = now
    account.save(update_fields=["deactivated_at", "synced_at"])
    AccessEvent.objects.create(
        user=user,
        username=user.get_username(),
        action=AccessEvent.Action.DIRECTORY_OFF,
        detail=(
            _("%(reason)s; sessions ended: %(sessions)d, API tokens revoked: %(tokens)d")
            % {"reason": verdict.reason, "sessions": len(sessions), "tokens": revoked}
        )[:255],
    )


def _mirror(verdict: Verdict, *, now) -> bool:
    """The flags and groups a sign-in would give the user; True if anything changed."""
    user = verdict.account.user
    changed = []
    for flag, group_dns in getattr(settings, "AUTH_LDAP_USER_FLAGS_BY_GROUP", {}).items():
        dns = [group_dns] if isinstance(group_dns, str) else list(group_dns)
        value = any(_normal_dn(dn) in verdict.groups for dn in dns)
        if getattr(user, flag) != value:
            setattr(user, flag, value)
            changed.append(flag)
    if changed:
        user.save(update_fields=changed)
    if getattr(settings, "AUTH_LDAP_MIRROR_GROUPS", False) is True:
        names = set(verdict.groups.values())
        if set(user.groups.values_list("name", flat=True)) != names:
            groups = [Group.objects.get_or_create(name=name)[0] for name in sorted(names)]
            user.groups.set(groups)
            changed.append("groups")
    account = verdict.account
    account.synced_at = now
    account.dn = verdict.dn[:500]
    account.save(update_fields=["synced_at", "dn"])
    return bool(changed)
