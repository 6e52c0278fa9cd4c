"""The workstations' heartbeat: one row per workstation, rewritten by its client every cycle.

A workstation that stops writing here has stopped delivering recordings, and its recordings
exist nowhere else; the admin lists the quiet ones so somebody goes and looks. The client's
database user may write this table and VIDEO, and read a few CONFIG columns, nothing more.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from zones.fields import BinaryCharField
from zones.models import Zone


class Workstation(models.Model):
    host = models.CharField(_("workstation"), max_length=63, unique=True, db_column="HOST")
    # The zone the client found, even when CONFIG has no row for it (that is often the error).
    zone_name = models.CharField(
        _("zone found"), max_length=20, blank=True, default="", db_column="ZONE_NAME"
    )
    zone = models.ForeignKey(
        Zone,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_column="ZONE_ID",
        related_name="workstations",
        verbose_name=_("zone"),
    )
    last_seen = models.DateTimeField(_("last seen"), db_column="LAST_SEEN", db_index=True)
    last_success = models.DateTimeField(
        _("last success"), null=True, blank=True, db_column="LAST_SUCCESS"
    )
    pending_count = models.PositiveIntegerField(
        _("waiting to be sent"),
        default=0,
        db_column="PENDING",
        help_text=_("Recordings on the workstation that have not been delivered yet."),
    )
    unparseable_count = models.PositiveIntegerField(
        _("left in place"),
        default=0,
        db_column="UNPARSEABLE",
        help_text=_(
            "Recordings the client cannot send as they are: the zone's file name pattern "
            "does not read their names, or their time is in the future."
        ),
    )
    delivered_count = models.PositiveIntegerField(
        _("delivered in the last cycle"), default=0, db_column="DELIVERED"
    )
    collision_count = models.PositiveIntegerField(
        _("kept: other content on storage"),
        default=0,
        db_default=0,
        db_column="COLLISIONS",
        help_text=_(
            "Recordings kept on the workstation because storage or VIDEO already holds "
            "different content under their name (a cloned workstation, a pre-written row)."
        ),
    )
    last_error = models.TextField(_("last error"), blank=True, default="", db_column="LAST_ERROR")
    version = models.CharField(
        _("client version"), max_length=40, blank=True, default="", db_column="VERSION"
    )

    class Meta:
        db_table = "WORKSTATION"
        verbose_name = _("workstation")
        verbose_name_plural = _("workstations")
        ordering = ["last_seen"]

    def __str__(self) -> str:
        return self.host


class ClientDatabaseLogin(models.Model):
    """A database user name the workstation clients log in with.

    VIDEO's trigger (migration ``0004_client_row_checks``) checks every row inserted under
    one of these names, because that login is shared by every workstation of every site and
    a workstation is not trusted to describe its recordings honestly. ``manage.py
    client_grants`` prints the INSERT that registers a name, beside its GRANTs; the client's
    own user is granted nothing on this table.
    """

    # Byte-exact, as MariaDB compares user names; the host part is left out on purpose, so
    # every 'name'@'<host>' account of that name is checked.
    user = BinaryCharField(_("database user"), max_length=128, primary_key=True, db_column="USER")

    class Meta:
        db_table = "CLIENT_LOGIN"
        verbose_name = _("workstation client database login")
        verbose_name_plural = _("workstation client database logins")

    def __str__(self) -> str:
        return self.user
