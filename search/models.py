"""The access audit and the API tokens of the search service."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zones.local_time import local_short


class AccessEvent(models.Model):
    """Who searched, watched, downloaded or held what, when, and from where.

    Rows are only ever added: the admin shows them read-only and nothing in the UI edits or
    deletes them. The user name is copied so a row still says who it was after the account
    is gone.
    """

    class Action(models.TextChoices):
        SEARCH = "search", _("search")
        VIEW = "view", _("view")
        DOWNLOAD = "download", _("download")
        HOLD_PLACE = "hold_place", _("legal hold placed")
        HOLD_LIFT = "hold_lift", _("legal hold lifted")
        NOTE_ADD = "note_add", _("note added")
        NOTE_DELETE = "note_delete", _("note deleted")
        # A known key refused (expired, revoked, its owner deactivated): someone still holds
        # it, and whose it was is worth knowing. Unknown keys name nobody and are only logged.
        TOKEN_REFUSED = "token_refused", _("API token refused")
        TOKEN_ISSUE = "token_issue", _("API token issued")
        # The periodic directory sync took the account away (search.directory_sync).
        DIRECTORY_OFF = "directory_off", _("deactivated by the directory")

    at = models.DateTimeField(_("time"), db_default=Now(), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("user name"), max_length=150, db_index=True)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices, db_index=True)
    via_api = models.BooleanField(_("through the API"), default=False)
    # No foreign key constraint: the audit must outlive anything it mentions.
    video = models.ForeignKey(
        "storage.Video",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("recording"),
    )
    session_id = models.CharField(_("session id"), max_length=50, blank=True, db_index=True)
    query = models.JSONField(_("query"), default=dict, blank=True)
    result_count = models.PositiveIntegerField(_("results"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    remote_addr = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("access event")
        verbose_name_plural = _("access audit")
        ordering = ["-at", "-id"]
        permissions = [("export_accessevent", _("Can export the access audit"))]
        indexes = [
            # A user's recent searches (search.selectors.recent_searches) and a user's trail.
            models.Index(fields=["user", "action", "at"], name="ACCESS_USER_ACTION_AT_IDX"),
        ]

    def __str__(self) -> str:
        return f"{local_short(self.at)} {self.username} {self.get_action_display()}"


def api_token_default_expiry():
    return timezone.now() + timedelta(days=settings.OPVIDEO_API_TOKEN_DAYS)


class ApiToken(models.Model):
    """A per-user key for the JSON API. Only a hash is stored: the key itself is shown once,
    on a page of its own, when it is issued (search.admin). A staff user issues tokens for
    themselves; only a superuser issues one for someone else (search.services)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    label = models.CharField(_("purpose"), max_length=100)
    # Who issued it, kept apart from whose it is: the audit of an issue names both.
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("issued by"),
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("issued"), db_default=Now())
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(_("expires"), default=api_token_default_expiry)
    revoked = models.BooleanField(_("revoked"), default=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.label})"

    def is_expired(self, now=None) -> bool:
        return self.expires_at <= (now or timezone.now())

    @staticmethod
    def hash_key(key: str) -> str:
        # The keys are long random strings, so a fast unsalted hash is enough here.
        return hashlib.sha256(key.encode()).hexdigest()


class DirectoryAccount(models.Model):
    """Marks a user as the directory's (made or refreshed by django-auth-ldap at sign-in), so
    the hourly sync re-reads exactly these accounts and never a local one (the break-glass
    superuser, an integration account).

    ``deactivated_at`` is set when the sync took the account away; a later sign-in that the
    directory accepts again (back in the group, enabled) clears it and reactivates the user.
    An account an admin deactivated by hand has no such mark and stays inactive.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="directory_account",
        verbose_name=_("user"),
    )
    dn = models.CharField(_("directory entry"), max_length=500, blank=True)
    synced_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    deactivated_at = models.DateTimeField(_("deactivated by the directory"), null=True, blank=True)

    class Meta:
        verbose_name = _("directory account")
        verbose_name_plural = _("directory accounts")

    def __str__(self) -> str:
        return self.dn or str(self.user_id)
