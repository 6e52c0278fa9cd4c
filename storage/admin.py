"""Read-only admin list of recordings.

Rows are written by the workstation clients and the retention service only; the admin is for
looking things up, so every write permission is off.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Video


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
