"""Admin for the access audit (read-only, exportable) and the API tokens."""

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from storage.admin import ReadOnlyAdmin

from .auth import request_actor
from .exports import audit_csv_filename, audit_csv_lines, audit_events_between
from .models import AccessEvent, ApiToken
from .services import api_token_issue


@admin.register(AccessEvent)
class AccessEventAdmin(ReadOnlyAdmin):  # the audit is append-only
    list_display = ("at", "username", "action", "session_id", "video_number", "remote_addr")
    list_filter = ("action", "via_api", "at")
    search_fields = ("=username", "=session_id")
    search_help_text = _("Exact user name or session id.")
    show_full_result_count = False
    actions = ["export_csv"]
    readonly_fields = [f.name for f in AccessEvent._meta.fields]

    # The recording's number, without a query per row for the recording itself (the column
    # "video_id" would be headed «VIDEO ID»).
    @admin.display(description=_("recording"), ordering="video_id")
    def video_number(self, event: AccessEvent):
        return event.video_id

    def has_export_permission(self, request):
        return request.user.has_perm("search.export_accessevent")

    @admin.action(description=_("Export the selected events as CSV"), permissions=["export"])
    def export_csv(self, request, queryset):
        return _csv_response(events=queryset)

    def get_urls(self):
        export = self.admin_site.admin_view(self.export_view)
        return [path("export/", export, name="search_accessevent_export"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_export": self.has_export_permission(request)}
        return super().changelist_view(request, extra_context=extra_context)

    def export_view(self, request) -> HttpResponse:
        """The events the changelist's filters (carried in the query string) select within a
        date range, streamed as CSV; GET shows the form, POST exports."""
        if not (self.has_view_permission(request) and self.has_export_permission(request)):
            raise PermissionDenied
        try:
            # The same filters, search and their validation as the list the link came from.
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(request.path)
        form = AuditExportForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            return _csv_response(
                events=audit_events_between(
                    events=changelist.get_queryset(request),
                    date_from=form.cleaned_data["date_from"],
                    date_to=form.cleaned_data["date_to"],
                )
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Export the access audit"),
            "form": form,
            "filters": changelist.get_query_string(),
            "filtered": bool(changelist.get_filters_params() or changelist.query),
        }
        return TemplateResponse(request, "admin/search/accessevent/export.html", context)


def _csv_response(*, events) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        audit_csv_lines(events=events), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{audit_csv_filename()}"'
    return response


DAY_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditExportForm(forms.Form):
    """The days to export, both included; a bounded range keeps one export a sane size."""

    MAX_DAYS = 366

    date_from = forms.DateField(label=_("First day"), widget=DAY_INPUT)
    date_to = forms.DateField(label=_("Last day"), widget=DAY_INPUT)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end:
            if end < start:
                raise ValidationError(_("The end date is before the start date."))
            if (end - start).days + 1 > self.MAX_DAYS:
                raise ValidationError(
                    _("At most %(days)d days in one export.") % {"days": self.MAX_DAYS}
                )
        return cleaned


# Where the key waits, in the server-side session, between the add form's POST and the page
# that shows it once. Never a message: Django's messages travel in a signed (readable) cookie.
ISSUED_KEY_SESSION = "opvideo-issued-api-key"


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("user", "label")

    def clean_user(self):
        user = self.cleaned_data["user"]
        if not user.is_active:
            raise ValidationError(_("The user is inactive; a token for them would never work."))
        return user


def _short(moment) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT") if moment else "—"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenForm
    # Short dates and one state column keep the list readable beside the admin's sidebar;
    # the issue date is on the token's own page.
    list_display = (
        "prefix",
        "user",
        "label",
        "state",
        "expires_on",
        "issued_by",
        "last_used_on",
    )
    list_filter = ("revoked", "expires_at")
    ordering = ("-created_at",)

    @admin.display(description=_("expires"), ordering="expires_at")
    def expires_on(self, token):
        return _short(token.expires_at)

    @admin.display(description=_("last used"), ordering="last_used_at")
    def last_used_on(self, token):
        return _short(token.last_used_at)

    @admin.display(description=_("state"))
    def state(self, token):
        if token.revoked:
            return _("revoked")
        if token.is_expired():
            return _("expired")
        return _("valid")

    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("user", "label")
        return (
            "user",
            "label",
            "prefix",
            "issued_by",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fixed = ("user", "prefix", "issued_by", "created_at", "expires_at", "last_used_at")
        # Revoking is for good: a token the directory sync revoked is not turned back on.
        return (*fixed, "revoked") if obj.revoked else fixed

    def get_autocomplete_fields(self, request):
        # Only a superuser chooses whose token it is; the autocomplete would also need the
        # permission to view users, which a token issuer need not have.
        return ("user",) if request.user.is_superuser else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            # The form offers no one else, and a forged POST naming someone else fails its
            # validation: the choice is not among these.
            kwargs["queryset"] = get_user_model().objects.filter(pk=request.user.pk)
            kwargs["initial"] = request.user.pk
            kwargs["empty_label"] = None
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):
        tokens = super().get_queryset(request).select_related("user", "issued_by")
        return tokens if request.user.is_superuser else tokens.filter(user=request.user)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, key = api_token_issue(
            user=form.cleaned_data["user"], label=obj.label, actor=request_actor(request)
        )
        obj.pk = token.pk
        obj.refresh_from_db()
        request.session[ISSUED_KEY_SESSION] = {"token": token.pk, "key": key}

    def response_add(self, request, obj, post_url_continue=None):
        # No "added" message (it would travel in the messages cookie) and straight to the
        # one page that shows the key.
        return HttpResponseRedirect(
            reverse("admin:search_apitoken_issued", args=[obj.pk], current_app=self.admin_site.name)
        )

    def get_urls(self):
        issued = self.admin_site.admin_view(self.issued_view)
        return [
            path("<int:pk>/issued/", issued, name="search_apitoken_issued"),
            *super().get_urls(),
        ]

    def issued_view(self, request, pk: int) -> HttpResponse:
        """The new key, once: taken out of the session as it is shown, so a reload, the
        back button or another tab finds only the token's description."""
        token = self.get_object(request, str(pk))
        # Its issuer may see it even with only the permission to add tokens.
        if token is None or not (
            token.issued_by_id == request.user.pk
            or self.has_view_or_change_permission(request, token)
        ):
            raise PermissionDenied
        waiting = request.session.get(ISSUED_KEY_SESSION) or {}
        key = None
        if waiting.get("token") == token.pk:
            key = waiting["key"]
            del request.session[ISSUED_KEY_SESSION]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("New API token"),
            "token": token,
            "key": key,
            "change_url": (
                reverse(
                    "admin:search_apitoken_change",
                    args=[token.pk],
                    current_app=self.admin_site.name,
                )
                if self.has_view_or_change_permission(request, token)
                else None
            ),
        }
        response = TemplateResponse(request, "admin/search/apitoken/issued.html", context)
        add_never_cache_headers(response)
        response["Cache-Control"] = "no-store, no-cache, must-revalidate, max-age=0, private"
        return response

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead, so the audit can still name the token

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset) -> HttpResponse | None:
        queryset.update(revoked=True)
        return None
