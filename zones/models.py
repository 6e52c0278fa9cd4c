"""The CONFIG table: one row per site ("zone") and its storage server.

Column names are the seed's, so an existing database and the old clients keep working; the
columns the new system adds all carry database-level defaults, so an INSERT written the old
way (naming only the seed's columns) still succeeds.
"""

from datetime import time

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .fields import EncryptedTextField
from .file_names import file_name_pattern_check
from .validators import (
    absolute_path_validator,
    extension_validator,
    hostname_validator,
    path_has_no_dot_segments,
    posix_user_validator,
    zone_name_validator,
)

# The seed stored SPEED in a varchar(5): keep every value an old reader could still parse.
MAX_SPEED_KBPS = 99_999
# The daily purge runs at night, when nobody is watching recordings.
DEFAULT_PURGE_TIME = time(3, 0)


class Zone(models.Model):
    class Scheme(models.TextChoices):
        HTTP = "http", "http"
        HTTPS = "https", "https"

    name = models.CharField(
        _("zone"),
        max_length=20,
        unique=True,
        db_column="ZONE",
        validators=[zone_name_validator],
        help_text=_("Site name; workstations find their zone by it."),
    )
    server = models.CharField(
        _("storage server"),
        max_length=255,
        db_column="SERVER",
        validators=[hostname_validator],
        help_text=_("Host the workstations send recordings to with rsync over ssh."),
    )
    ssh_user = models.CharField(
        _("ssh user"), max_length=10, db_column="USER", validators=[posix_user_validator]
    )
    ssh_private_key = EncryptedTextField(_("ssh private key"), db_column="RSA_KEY")
    speed_kbps = models.PositiveIntegerField(
        _("transfer speed, KB/s"),
        db_column="SPEED",
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SPEED_KBPS)],
        help_text=_("rsync --bwlimit for each workstation, in kilobytes per second."),
    )
    path_src = models.CharField(
        _("directory on workstations"),
        max_length=255,
        db_column="PATH_SRC",
        validators=[absolute_path_validator, path_has_no_dot_segments],
    )
    path_dst = models.CharField(
        _("directory on the storage server"),
        max_length=255,
        db_column="PATH_DST",
        validators=[absolute_path_validator, path_has_no_dot_segments],
    )
    file_extension = models.CharField(
        _("recording file extension"),
        max_length=5,
        db_column="TYPE_VIDEOFILE",
        validators=[extension_validator],
    )
    # NULL, not "": the seed column is DEFAULT NULL.
    public_address = models.CharField(  # noqa: DJ001
        _("video server address"),
        max_length=255,
        null=True,
        blank=True,
        db_column="PUBLIC_ADDRESS",
        validators=[hostname_validator],
        help_text=_("Host name browsers use to reach this zone's video server (nginx)."),
    )
    public_port = models.PositiveIntegerField(
        _("video server port"),
        null=True,
        blank=True,
        db_column="PUBLIC_PORT",
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
    )

    # --- columns the new system adds -------------------------------------------------------
    enabled = models.BooleanField(_("enabled"), default=True, db_default=True, db_column="ENABLED")
    ssh_port = models.PositiveIntegerField(
        _("ssh port"),
        default=22,
        db_default=22,
        db_column="SSH_PORT",
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
    )
    public_scheme = models.CharField(
        _("video server scheme"),
        max_length=5,
        choices=Scheme.choices,
        default=Scheme.HTTP,
        db_default=Scheme.HTTP,
        db_column="PUBLIC_SCHEME",
    )
    retention_days = models.PositiveSmallIntegerField(
        _("retention, days"),
        default=90,
        db_default=90,
        db_column="RETENTION_DAYS",
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("How long a recording is kept unless the recording itself says otherwise."),
    )
    purge_time = models.TimeField(
        _("daily purge time"),
        default=DEFAULT_PURGE_TIME,
        db_default=DEFAULT_PURGE_TIME,
        db_column="PURGE_TIME",
        help_text=_(
            "Time of day (in the project's time zone) the zone's storage server deletes "
            "expired recordings."
        ),
    )
    link_secret = EncryptedTextField(
        _("video link secret"), default="", db_default="", blank=True, db_column="LINK_SECRET"
    )
    file_name_pattern = models.CharField(
        _("file name pattern"),
        max_length=500,
        default="",
        db_default="",
        blank=True,
        db_column="FILE_NAME_PATTERN",
        help_text=_("Regular expression with named groups; empty means the standard one."),
    )
    # Workstations never hold the web's FIELD_ENCRYPTION_KEYS: each zone has a Fernet key of
    # its own (stored here under the web's keys, printed by ``manage.py zone_client_key``
    # for that site's db.conf), and the ssh key is also kept sealed under it, in a column
    # a workstation's database login can read only for its own zone.
    client_key = EncryptedTextField(
        _("workstation key"), default="", db_default="", blank=True, db_column="CLIENT_KEY"
    )
    client_ssh_key = models.TextField(
        _("ssh private key sealed for workstations"),
        default="",
        db_default="",
        blank=True,
        db_column="CLIENT_RSA_KEY",
    )
    # The storage server's host public keys ("<type> <base64>" per line): workstations
    # connect only to a server holding one of them (StrictHostKeyChecking=yes).
    host_keys = models.TextField(
        _("storage server host keys"),
        default="",
        db_default="",
        blank=True,
        db_column="HOST_KEYS",
        help_text=_(
            "Public host keys of the storage server, one per line; workstations refuse a "
            "server that shows any other key."
        ),
    )
    created_at = models.DateTimeField(_("created"), db_default=Now(), db_column="CREATED_AT")

    class Meta:
        db_table = "CONFIG"
        ordering = ["name"]
        verbose_name = _("zone")
        verbose_name_plural = _("zones")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Here rather than as a field validator, so the migrations do not change: every
        # full_clean() (the services, the admin form) checks the pattern the workstations use.
        try:
            file_name_pattern_check(self.file_name_pattern)
        except ValidationError as exc:
            raise ValidationError({"file_name_pattern": exc}) from exc

    def unique_error_message(self, model_class, unique_check):
        # Django's "%(model_name)s with this %(field_label)s already exists." puts the model's
        # name twice in Russian (the name field's label is the model's) and in the wrong case.
        if tuple(unique_check) == ("name",):
            return ValidationError(
                _("A zone named “%(name)s” already exists."),
                code="unique",
                params={"name": self.name},
            )
        return super().unique_error_message(model_class, unique_check)

    @property
    def purge_queue(self) -> str:
        """The Celery queue only this zone's storage server consumes (it mounts PATH_DST)."""
        return f"zone.{self.name}"
