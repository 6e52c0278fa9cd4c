"""Admin list of the workstations' heartbeats, quiet ones first.

A workstation that has gone quiet (no heartbeat) or keeps failing (heartbeat but no
success) holds recordings that exist nowhere else, so the list opens on the ones that need a
person. Rows are written by the clients; the admin only reads them, and may delete the row
of a decommissioned workstation.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Workstation
from .selectors import workstations_health


def quiet_after() -> timedelta:
    return timedelta(hours=settings.OPVIDEO_WORKSTATION_QUIET_HOURS)


class HealthFilter(admin.SimpleListFilter):
    title = _("health")
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [
            ("quiet", _("needs attention")),
            ("ok", _("delivering")),
        ]

    def queryset(self, request, queryset):
        # WorkstationAdmin.get_queryset has annotated ``quiet``.
        if self.value() == "quiet":
            return queryset.filter(quiet=True)
        if self.value() == "ok":
            return queryset.filter(quiet=False)
        return queryset


@admin.register(Workstation)
class WorkstationAdmin(admin.ModelAdmin):
    list_display = (
        "host",
        "zone_name",
        "healthy",
        "last_seen",
        "last_success",
        "pending_count",
        "unparseable_count",
        "collision_count",
        "short_error",
        "version",
    )
    list_filter = (HealthFilter, "zone")
    search_fields = ("host",)
    ordering = ("last_seen",)
    list_select_related = ("zone",)
    readonly_fields = [f.name for f in Workstation._meta.fields]

    def get_queryset(self, request):
        return workstations_health(
            now=timezone.now(), quiet_after=quiet_after(), queryset=super().get_queryset(request)
        )

    @admin.display(boolean=True, description=_("delivering"))
    def healthy(self, obj: Workstation) -> bool:
        return not obj.quiet

    @admin.display(description=_("last error"))
    def short_error(self, obj: Workstation) -> str:
        first = obj.last_error.splitlines()[0] if obj.last_error else ""
        return first[:120] + ("…" if len(first) > 120 or "\n" in obj.last_error else "")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
