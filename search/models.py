"""The access audit and the API tokens of the search service."""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


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

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action}"


class ApiToken(models.Model):
    """A per-user key for the JSON API, issued by an admin. Only a hash is stored: the key
    itself is shown once, when it is issued."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    label = models.CharField(_("purpose"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("issued"), db_default=Now())
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked = models.BooleanField(_("revoked"), default=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.label})"

    @staticmethod
    def hash_key(key: str) -> str:
        # The keys are long random strings, so a fast unsalted hash is enough here.
        return hashlib.sha256(key.encode()).hexdigest()
