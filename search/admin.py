"""Admin for the access audit (read-only, exportable) and the API tokens."""

from django.contrib import admin, messages
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from storage.admin import ReadOnlyAdmin

from .exports import audit_csv_lines
from .models import AccessEvent, ApiToken
from .services import api_token_issue


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):  # the audit is append-only
    list_display = ("at", "username", "action", "session_id", "video_id", "remote_addr")
    list_filter = ("action", "via_api", "at")
    search_fields = ("=username", "=session_id")
    search_help_text = _("Exact user name or session id.")
    show_full_result_count = False
    actions = ["export_csv"]
    readonly_fields = [f.name for f in AccessEvent._meta.fields]

    def has_export_permission(self, request):
        return request.user.has_perm("search.export_accessevent")

    @admin.action(description=_("Export the selected events as CSV"), permissions=["export"])
    def export_csv(self, request, queryset):
        response = StreamingHttpResponse(
            audit_csv_lines(events=queryset), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="opvideo-audit-{stamp}.csv"'
        return response


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "label", "created_at", "last_used_at", "revoked")
    list_filter = ("revoked",)
    fields = ("user", "label", "revoked")
    autocomplete_fields = ("user",)
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return ("user",) if obj else ()

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, key = api_token_issue(user=obj.user, label=obj.label)
        obj.pk = token.pk
        obj.refresh_from_db()
        messages.warning(
            request,
            _("The key is shown only now; give it to its user: %(key)s") % {"key": key},
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead, so the audit can still name the token

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset) -> HttpResponse | None:
        queryset.update(revoked=True)
        return None
