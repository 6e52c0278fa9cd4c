"""Admin list of the workstations' heartbeats, quiet ones first.

A workstation that has gone quiet (no heartbeat) or keeps failing (heartbeat but no
success) holds recordings that exist nowhere else, so the list opens on the ones that need a
person. Rows are written by the clients; the admin only reads them, and may delete the row
of a decommissioned workstation.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .health import FAILING, OK, QUIET, with_health
from .models import Workstation

ATTENTION = "attention"  # quiet or failing: every workstation that needs a person


class HealthFilter(admin.SimpleListFilter):
    """By state, with the rule the dashboard's counts use (client_agent.health), so a count
    on the admin home opens a list of exactly those workstations."""

    title = _("health")
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [
            (ATTENTION, _("needs attention")),
            (OK, _("delivering")),
            (QUIET, _("quiet")),
            (FAILING, _("failing")),
        ]

    def queryset(self, request, queryset):
        # WorkstationAdmin.get_queryset has annotated ``health`` (client_agent.health): the
        # filter reads that annotation, the column too, so the two cannot disagree.
        value = self.value()
        if value == ATTENTION:
            return queryset.filter(health__in=(QUIET, FAILING))
        if value in (OK, QUIET, FAILING):
            return queryset.filter(health=value)
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
        return with_health(super().get_queryset(request))

    @admin.display(boolean=True, description=_("delivering"))
    def healthy(self, obj: Workstation) -> bool:
        return obj.health == OK

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
