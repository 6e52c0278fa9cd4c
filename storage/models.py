"""The VIDEO table: one row per recording file on a zone's storage server.

The seed's columns keep their names and meaning; a surrogate ``id`` and the new columns carry
database-level defaults so the old clients' INSERTs keep working during the roll-out.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from zones.fields import BinaryCharField
from zones.local_time import local_short
from zones.models import Zone


class HashOrigin(models.TextChoices):
    # Taken from the bytes before they left the workstation: proves what was recorded.
    WORKSTATION = "workstation", _("on the workstation")
    # Taken from the stored file, for a row without one: proves only that it has not
    # changed since.
    STORAGE = "storage", _("on storage")


class MediaState(models.TextChoices):
    PENDING = "pending", _("not read yet")
    DONE = "done", _("read")
    # ffprobe could not read it (truncated, not a video): kept, shown as such, not retried.
    FAILED = "failed", _("unreadable")


class Video(models.Model):
    id = models.BigAutoField(primary_key=True)
    zone = models.ForeignKey(
        Zone,
        on_delete=models.PROTECT,
        db_column="ZONE_ID",
        related_name="videos",
        verbose_name=_("zone"),
    )
    # NULL, not "": the seed column is DEFAULT NULL; old clients insert NULL.
    project_id = models.CharField(  # noqa: DJ001
        _("project id"),
        max_length=40,
        null=True,
        blank=True,
        db_column="PROJECTID",
    )
    session_id = models.CharField(_("session id"), max_length=50, db_column="SESSIONID")
    file_name = BinaryCharField(_("file name"), max_length=255, db_column="FILE_NAME")
    recording_date = models.DateField(_("recording date"), db_column="RECORDING_DATE")
    delete_date = models.DateField(
        _("deletion date"), null=True, blank=True, db_column="DELETE_DATE"
    )
    storage_days = models.PositiveSmallIntegerField(
        _("storage days"), null=True, blank=True, db_column="STORAGE_DAYS"
    )

    # --- columns the new system adds -------------------------------------------------------
    size = models.PositiveBigIntegerField(_("size, bytes"), null=True, blank=True, db_column="SIZE")
    workstation = models.CharField(
        _("workstation"),
        max_length=255,
        default="",
        db_default="",
        blank=True,
        db_column="WORKSTATION",
    )
    registered_at = models.DateTimeField(
        _("registered"), db_default=Now(), db_column="REGISTERED_AT"
    )
    # Custody (README, "Chain of custody"): the recording's SHA-256, hex, as the workstation
    # read it before sending, or as the zone worker read it on storage for a row an old
    # client wrote. NULL in rows of the old clients, whose INSERT names only the seed's
    # columns; such a row never confirms a local copy.
    content_hash = models.CharField(  # noqa: DJ001
        _("SHA-256"),
        max_length=64,
        null=True,
        blank=True,
        db_default=None,
        db_column="HASH",
    )
    hash_origin = models.CharField(  # noqa: DJ001
        _("hash taken"),
        max_length=12,
        choices=HashOrigin.choices,
        null=True,
        blank=True,
        db_default=None,
        db_column="HASH_ORIGIN",
    )
    # The zone worker's last re-reading of the stored file against the hash (storage.integrity).
    integrity_checked_at = models.DateTimeField(
        _("integrity checked"), null=True, blank=True, db_column="INTEGRITY_CHECKED_AT"
    )
    integrity_ok = models.BooleanField(
        _("integrity intact"), null=True, blank=True, db_column="INTEGRITY_OK"
    )
    legal_hold = models.BooleanField(
        _("legal hold"), default=False, db_default=False, db_column="LEGAL_HOLD"
    )
    legal_hold_reason = models.CharField(
        _("legal hold reason"),
        max_length=255,
        default="",
        db_default="",
        blank=True,
        db_column="LEGAL_HOLD_REASON",
    )
    # Who placed the hold now in force, and when: the page shows it beside the reason. The
    # whole trail (every place and lift, with reasons) is in the access audit.
    legal_hold_by = models.CharField(
        _("legal hold placed by"),
        max_length=150,
        default="",
        db_default="",
        blank=True,
        db_column="LEGAL_HOLD_BY",
    )
    legal_hold_at = models.DateTimeField(
        _("legal hold placed"), null=True, blank=True, db_column="LEGAL_HOLD_AT"
    )

    # --- what the recording is: read by the zone worker on the storage server (storage.media)
    # When the call began: from the file name where the zone's pattern has a time, otherwise
    # the file's modification time less its duration. NULL until the worker has read it.
    started_at = models.DateTimeField(_("started"), null=True, blank=True, db_column="STARTED_AT")
    duration = models.FloatField(_("duration, s"), null=True, blank=True, db_column="DURATION")
    width = models.PositiveIntegerField(_("width"), null=True, blank=True, db_column="WIDTH")
    height = models.PositiveIntegerField(_("height"), null=True, blank=True, db_column="HEIGHT")
    codec = models.CharField(
        _("codec"), max_length=32, default="", db_default="", blank=True, db_column="CODEC"
    )
    # The operator's login where the zone's file name pattern has a group ``operator``;
    # empty otherwise (the pages then name the workstation).
    operator = models.CharField(
        _("operator"),
        max_length=150,
        default="",
        db_default="",
        blank=True,
        db_column="OPERATOR",
    )
    media_state = models.CharField(
        _("media read"),
        max_length=8,
        choices=MediaState.choices,
        default=MediaState.PENDING,
        db_default=MediaState.PENDING,
        db_column="MEDIA_STATE",
    )
    media_error = models.CharField(
        _("media read error"),
        max_length=255,
        default="",
        db_default="",
        blank=True,
        db_column="MEDIA_ERROR",
    )
    # The previews beside the recording (poster frame, thumbnail sprite with its WebVTT
    # index) and their geometry, as the player needs it: {"interval": s, "tile_width": px,
    # "tile_height": px, "columns": n, "count": n}. NULL: none made (yet).
    preview = models.JSONField(_("previews"), null=True, blank=True, db_column="PREVIEW")

    class Meta:
        db_table = "VIDEO"
        verbose_name = _("recording")
        verbose_name_plural = _("recordings")
        permissions = [("manage_legal_hold", _("Can place and lift legal holds"))]
        constraints = [
            # Registering the same file twice must be harmless, never a second row.
            models.UniqueConstraint(fields=["zone", "file_name"], name="VIDEO_ZONE_FILE_UNIQ"),
        ]
        indexes = [
            models.Index(fields=["session_id"], name="VIDEO_SESSIONID_IDX"),
            models.Index(fields=["project_id"], name="VIDEO_PROJECTID_IDX"),
            # Date-range searches read newest first by start time: the index gives that order.
            models.Index(
                fields=["recording_date", "started_at"], name="VIDEO_RECORDING_STARTED_IDX"
            ),
            # The integrity check takes the rows of a zone least recently checked first.
            models.Index(fields=["zone", "integrity_checked_at"], name="VIDEO_INTEGRITY_DUE_IDX"),
            # The zone worker takes the rows it has not read yet (storage.media).
            models.Index(fields=["zone", "media_state"], name="VIDEO_MEDIA_DUE_IDX"),
            # The hourly roll-up counts a zone's arrivals of the last days (ZoneDay) by
            # range, without reading the zone's older rows.
            models.Index(fields=["zone", "registered_at"], name="VIDEO_ZONE_REGISTERED_IDX"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} ({self.file_name})"

    @property
    def who(self) -> str:
        """Who was at the screen: the operator's login where the file name gives it, else
        the workstation's name."""
        return self.operator or self.workstation


class PurgeRun(models.Model):
    """One run of the retention purge of a zone, and what it did.

    Written by ``storage.retention`` only; the admin shows it read-only. Counts are brought up
    to date with every batch, in the batch's own transaction, so a run that was killed shows
    exactly what it had committed. The zone's name is copied so the history still reads
    after a zone is deleted.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        FINISHED = "finished", _("finished")
        FAILED = "failed", _("failed")
        INTERRUPTED = "interrupted", _("interrupted")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("schedule")
        COMMAND = "command", _("command")

    zone = models.ForeignKey(
        Zone,
        null=True,
        on_delete=models.SET_NULL,
        related_name="purge_runs",
        verbose_name=_("zone"),
    )
    zone_name = models.CharField(_("zone"), max_length=20, db_index=True)
    trigger = models.CharField(_("started by"), max_length=16, choices=Trigger.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    today = models.DateField(
        _("as of"), help_text=_("Recordings whose retention ended before this day expire.")
    )
    started_at = models.DateTimeField(_("started"), db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    deleted = models.PositiveIntegerField(_("deleted"), default=0)
    missing = models.PositiveIntegerField(
        _("already gone"),
        default=0,
        help_text=_("Files that were no longer there: recorded as deleted."),
    )
    refused = models.PositiveIntegerField(
        _("refused"),
        default=0,
        help_text=_("File names that would reach outside the storage directory: left alone."),
    )
    failed = models.PositiveIntegerField(
        _("failed"),
        default=0,
        help_text=_("Files that could not be deleted (permissions, I/O): kept, tried again."),
    )
    differs = models.PositiveIntegerField(
        _("does not match its record"),
        default=0,
        help_text=_(
            "Files that are not the file their recording's row describes (another size or "
            "content): kept, the row untouched, for a person to look at."
        ),
    )
    bytes_freed = models.PositiveBigIntegerField(_("bytes freed"), default=0)
    problems = models.TextField(_("problems"), blank=True, default="")
    error = models.TextField(_("error"), blank=True, default="")

    class Meta:
        verbose_name = _("purge run")
        verbose_name_plural = _("purge runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.zone_name} {local_short(self.started_at)}"


class IntegrityFinding(models.Model):
    """One stored recording found not to be what its row says (storage.integrity).

    Written by the zone worker and never repaired by it: a person decides. The zone's and
    file's names are copied so the finding still reads after the row or zone is gone.
    """

    class Kind(models.TextChoices):
        MISMATCH = "mismatch", _("content differs from its hash")
        SIZE = "size", _("size differs from the row")
        MISSING = "missing", _("file missing")
        UNREADABLE = "unreadable", _("file unreadable")

    video = models.ForeignKey(
        Video,
        null=True,
        on_delete=models.SET_NULL,
        related_name="integrity_findings",
        verbose_name=_("recording"),
    )
    zone = models.ForeignKey(
        Zone,
        null=True,
        on_delete=models.SET_NULL,
        related_name="integrity_findings",
        verbose_name=_("zone"),
    )
    zone_name = models.CharField(_("zone"), max_length=20, db_index=True)
    file_name = BinaryCharField(_("file name"), max_length=255)
    found_at = models.DateTimeField(_("found"), db_index=True)
    kind = models.CharField(_("finding"), max_length=16, choices=Kind.choices)
    expected_hash = models.CharField(_("expected SHA-256"), max_length=64, blank=True, default="")
    actual_hash = models.CharField(_("SHA-256 read"), max_length=64, blank=True, default="")
    expected_size = models.PositiveBigIntegerField(_("expected size"), null=True, blank=True)
    actual_size = models.PositiveBigIntegerField(_("size read"), null=True, blank=True)
    detail = models.TextField(_("detail"), blank=True, default="")

    class Meta:
        verbose_name = _("integrity finding")
        verbose_name_plural = _("integrity findings")
        ordering = ["-found_at", "-id"]

    def __str__(self) -> str:
        return f"{self.zone_name} {self.file_name}: {self.get_kind_display()}"


class VideoNote(models.Model):
    """A remark on a moment of a recording, written by QA staff while reviewing.

    Kept with the recording and deleted with it by the purge (storage.retention). The author's
    name is copied so a note still says who wrote it after the account is gone. Adding and
    removing a note is in the access audit.
    """

    video = models.ForeignKey(
        Video, on_delete=models.CASCADE, related_name="notes", verbose_name=_("recording")
    )
    at_seconds = models.FloatField(_("moment, s"))
    text = models.TextField(_("text"), max_length=2000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
    )
    author_name = models.CharField(_("author"), max_length=150)
    created_at = models.DateTimeField(_("written"), db_default=Now())

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["video", "at_seconds", "id"]

    def __str__(self) -> str:
        return f"{self.video_id} @{self.at_seconds:.1f}s: {self.text[:40]}"


class ZoneDay(models.Model):
    """One zone's day in figures: recordings received (registered) and purged, and their
    bytes. The dashboard, the forecast and the metrics read these few rows (20 zones by 90
    days) instead of scanning VIDEO. The zone's worker rolls up the last days every hour
    (``storage.capacity``); ``day`` is the local date (TIME_ZONE)."""

    zone = models.ForeignKey(
        Zone,
        on_delete=models.CASCADE,
        db_column="ZONE_ID",
        related_name="days",
        verbose_name=_("zone"),
    )
    day = models.DateField(_("day"), db_column="DAY")
    received = models.PositiveIntegerField(
        _("recordings received"), default=0, db_column="RECEIVED"
    )
    received_bytes = models.PositiveBigIntegerField(
        _("bytes received"), default=0, db_column="RECEIVED_BYTES"
    )
    purged = models.PositiveIntegerField(_("recordings purged"), default=0, db_column="PURGED")
    purged_bytes = models.PositiveBigIntegerField(
        _("bytes purged"), default=0, db_column="PURGED_BYTES"
    )
    updated_at = models.DateTimeField(_("updated"), db_column="UPDATED_AT")

    class Meta:
        db_table = "ZONE_DAY"
        verbose_name = _("zone day")
        verbose_name_plural = _("zone days")
        ordering = ["zone", "-day"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "day"], name="ZONE_DAY_UNIQ"),
        ]

    def __str__(self) -> str:
        return f"{self.zone_id} {self.day:%Y-%m-%d}"


class StorageSnapshot(models.Model):
    """The zone's storage directory (PATH_DST) as its worker found it: the file system's
    total, used and free bytes, the recordings' file count and bytes, and the oldest one's
    date. Taken
    every hour on the storage server (``storage.capacity``); the forecast reads the latest
    and the trend."""

    zone = models.ForeignKey(
        Zone,
        on_delete=models.CASCADE,
        db_column="ZONE_ID",
        related_name="snapshots",
        verbose_name=_("zone"),
    )
    taken_at = models.DateTimeField(_("taken"), db_column="TAKEN_AT")
    total_bytes = models.PositiveBigIntegerField(_("disk size, bytes"), db_column="TOTAL_BYTES")
    used_bytes = models.PositiveBigIntegerField(_("used, bytes"), db_column="USED_BYTES")
    free_bytes = models.PositiveBigIntegerField(_("free, bytes"), db_column="FREE_BYTES")
    file_count = models.PositiveBigIntegerField(_("files"), db_column="FILE_COUNT")
    # The recordings' own bytes (the files counted): used minus these is what else the
    # disk holds, which the recordings' retention has to fit beside.
    file_bytes = models.PositiveBigIntegerField(_("files, bytes"), db_column="FILE_BYTES")
    oldest_recording = models.DateField(
        _("oldest recording"), null=True, blank=True, db_column="OLDEST_RECORDING"
    )

    class Meta:
        db_table = "STORAGE_SNAPSHOT"
        verbose_name = _("storage snapshot")
        verbose_name_plural = _("storage snapshots")
        ordering = ["zone", "-taken_at"]
        indexes = [
            models.Index(fields=["zone", "taken_at"], name="STORAGE_SNAPSHOT_ZONE_IDX"),
        ]

    def __str__(self) -> str:
        return f"{self.zone_id} {local_short(self.taken_at)}"
