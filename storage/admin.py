"""Read-only admin lists of recordings and of retention purge runs.

Rows are written by the workstation clients and the retention service only; the admin is for
looking things up, so every write permission is off.
"""

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from .models import PurgeRun, Video


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = (
        "session_id",
        "zone",
        "file_name",
        "recording_date",
        "delete_date",
        "size",
        "legal_hold",
    )
    list_filter = (
        "zone",
        "recording_date",
        "legal_hold",
        ("delete_date", admin.EmptyFieldListFilter),
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PurgeRun)
class PurgeRunAdmin(admin.ModelAdmin):
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
        "freed",
        "finished_at",
    )
    list_filter = ("status", "trigger", "zone_name", "started_at")
    fields = (
        ("zone_name", "zone"),
        ("trigger", "status"),
        "today",
        ("started_at", "finished_at"),
        ("deleted", "missing", "refused", "failed"),
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

    # Written by the purge only: nobody edits or deletes its record.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
