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
    """A database user name the workstation clients log in with, and the zone it serves.

    VIDEO's trigger (migrations ``0004_client_row_checks``, ``0007_client_zone_checks``)
    checks every row inserted under one of these names, because a workstation is not trusted
    to describe its recordings honestly; a login with a zone may moreover write only that
    zone's VIDEO and WORKSTATION rows, and the view CLIENT_ZONE_KEY (``ClientZoneKey``) shows
    it only that zone's sealed ssh key. ``manage.py client_grants --zone Z`` prints the
    INSERT that registers a name, beside its GRANTs; the client's own user is granted
    nothing on this table.
    """

    # Byte-exact, as MariaDB compares user names; the host part is left out on purpose, so
    # every 'name'@'<host>' account of that name is checked.
    user = BinaryCharField(_("database user"), max_length=128, primary_key=True, db_column="USER")
    # NULL: a login shared by every zone, from before per-zone logins; it is still checked,
    # but sees no zone's key. PROTECT: deleting the zone must not silently turn its logins
    # into unlisted ones, which nothing checks.
    zone = models.ForeignKey(
        Zone,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_column="ZONE_ID",
        related_name="client_logins",
        verbose_name=_("zone"),
    )

    class Meta:
        db_table = "CLIENT_LOGIN"
        verbose_name = _("workstation client database login")
        verbose_name_plural = _("workstation client database logins")

    def __str__(self) -> str:
        return self.user


class ClientZoneKey(models.Model):
    """The view CLIENT_ZONE_KEY: the sealed ssh key of the zone the session's login serves.

    Created by migration ``0006_client_zone_key_view``, not by Django (``managed = False``). On
    MariaDB it is a ``SQL SECURITY DEFINER`` view joining CONFIG with CLIENT_LOGIN on the
    session's own user name (``USER()``, which inside the view is still the login, not the
    definer), so a workstation's login, granted SELECT on the view and not on the key columns
    of CONFIG, reads exactly one row: its own zone's. The value is the zone's ssh key
    encrypted under the zone's client key (``Zone.client_key``), which only that zone's
    workstations hold (``OPVIDEO_ZONE_KEY`` in db.conf).
    """

    zone = models.OneToOneField(
        Zone,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_column="ZONE_ID",
        related_name="+",
        db_constraint=False,
    )
    sealed_key = models.TextField(db_column="CLIENT_RSA_KEY")

    class Meta:
        managed = False
        db_table = "CLIENT_ZONE_KEY"
        default_permissions = ()

    def __str__(self) -> str:
        return str(self.zone_id)
