"""Read-only admin lists of recordings, retention purge runs and integrity findings.

Rows are written by the workstation clients and the retention service only; the admin is for
looking things up, so every write permission is off.
"""

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from .models import IntegrityFinding, PurgeRun, Video


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows only the system writes (recordings, purge runs, the access audit): they are
    looked at in the admin, never added, edited or deleted there, superusers included."""

    class Media:
        css = {"all": ["storage/admin.css"]}

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Video)
class VideoAdmin(ReadOnlyAdmin):
    list_display = (
        "session_id",
        "zone",
        "file_name",
        "recording_date",
        "delete_date",
        "size",
        "legal_hold",
        "integrity_ok",
    )
    list_filter = (
        "zone",
        "recording_date",
        "legal_hold",
        ("delete_date", admin.EmptyFieldListFilter),
        "integrity_ok",
        "hash_origin",
    )
    # "=" makes the search an exact match, which uses the SESSIONID/PROJECTID indexes; a
    # LIKE '%…%' over millions of rows would not.
    search_fields = ("=session_id", "=project_id")
    search_help_text = _("Exact session id or project id.")
    date_hierarchy = "recording_date"
    list_select_related = ("zone",)
    # COUNT(*) over the whole table on every page is the slow part on millions of rows.
    show_full_result_count = False
    ordering = ("-recording_date", "-id")


@admin.register(PurgeRun)
class PurgeRunAdmin(ReadOnlyAdmin):  # written by the purge only
    list_display = (
        "started_at",
        "zone_name",
        "trigger",
        "status",
        "today",
        "deleted",
        "missing",
        "refused",
        "failed",
        "differs",
        "freed",
        "finished_at",
    )
    list_filter = ("status", "trigger", "zone_name", "started_at")
    fields = (
        ("zone_name", "zone"),
        ("trigger", "status"),
        "today",
        ("started_at", "finished_at"),
        ("deleted", "missing", "refused", "failed", "differs"),
        "freed",
        "problems",
        "error",
    )
    readonly_fields = tuple(
        name for entry in fields for name in (entry if isinstance(entry, tuple) else (entry,))
    )
    list_select_related = ("zone",)

    @admin.display(description=_("freed"), ordering="bytes_freed")
    def freed(self, obj: PurgeRun) -> str:
        return filesizeformat(obj.bytes_freed)


@admin.register(IntegrityFinding)
class IntegrityFindingAdmin(ReadOnlyAdmin):  # written by the integrity check only
    list_display = ("found_at", "zone_name", "file_name", "kind", "video")
    list_filter = ("zone_name", "kind", "found_at")
    search_fields = ("file_name",)
    search_help_text = _("Part of the file name.")
    # No date_hierarchy: on a DateTimeField it needs MariaDB's time-zone tables, which a
    # server is not guaranteed to have; the date filter does the same job.
    fields = (
        ("found_at", "kind"),
        ("zone_name", "zone"),
        "file_name",
        "video",
        ("expected_size", "actual_size"),
        "expected_hash",
        "actual_hash",
        "detail",
    )
    readonly_fields = tuple(
        name for entry in fields for name in (entry if isinstance(entry, tuple) else (entry,))
    )
    list_select_related = ("video",)
