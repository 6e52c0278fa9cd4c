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


ERROR_SHOWN = 80  # characters of the last error's first line in the list; the page has it all


def _short_time(value) -> str:
    """``30.11 23:08`` in TIME_ZONE (with the year when it is not this one); a dash for never."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    if local.year != timezone.localdate().year:
        return f"{local:%d.%m.%Y %H:%M}"
    return f"{local:%d.%m %H:%M}"


@admin.register(Workstation)
class WorkstationAdmin(admin.ModelAdmin):
    # Short cells (times as 30.11 23:08; the three counts in one cell; the error cut short)
    # so the list fits 1366 px beside the admin's menu and the filter: the last delivery and
    # the error are seen without scrolling. Each row's page has every field in full (the
    # client's version too, left out here).
    list_display = (
        "host",
        "zone_name",
        "healthy",
        "seen",
        "succeeded",
        "counts",
        "short_error",
    )
    list_filter = (HealthFilter, "zone")

    class Media:
        css = {"all": ["client_agent/admin.css"]}

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

    @admin.display(description=_("last seen"), ordering="last_seen")
    def seen(self, obj: Workstation) -> str:
        return _short_time(obj.last_seen)

    @admin.display(description=_("last delivery"), ordering="last_success")
    def succeeded(self, obj: Workstation) -> str:
        return _short_time(obj.last_success)

    @admin.display(description=_("waiting · left in place · conflicts"), ordering="-pending_count")
    def counts(self, obj: Workstation) -> str:
        return f"{obj.pending_count} · {obj.unparseable_count} · {obj.collision_count}"

    @admin.display(description=_("last error"))
    def short_error(self, obj: Workstation) -> str:
        first = obj.last_error.splitlines()[0] if obj.last_error else ""
        cut = ERROR_SHOWN
        return first[:cut] + ("…" if len(first) > cut or "\n" in obj.last_error else "")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
