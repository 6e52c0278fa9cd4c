"""Django admin for zones: thin, every write goes through ``zones.services``.

What an admin sees of the secrets: the key's type, fingerprint and the exact line to install
on the storage server; never the private key and never the link secret. Secret columns are
deferred in every admin query, so a wrong ``FIELD_ENCRYPTION_KEYS`` still lets an admin
list the zones and give a zone a new key; only the key display reports the problem.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import formats, timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters

from . import deployment, host_keys, selectors, ssh_keys
from .fields import FieldDecryptionError
from .forms import HostKeyAction, ZoneAdminForm
from .models import Zone
from .purge_schedule import zone_purge_schedule
from .services import (
    KeyAction,
    zone_create,
    zone_delete,
    zone_update,
    zones_link_secret_regenerate,
)


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    form = ZoneAdminForm
    list_display = (
        "name",
        "server",
        "path_dst",
        "public_endpoint",
        "enabled",
        "retention_days",
        "purge_time",
    )
    list_display_links = ("name",)
    list_filter = ("enabled",)
    search_fields = ("name", "server")
    actions = ["regenerate_link_secret"]
    readonly_fields = (
        "key_type",
        "key_fingerprint",
        "authorized_keys",
        "pinned_host_keys",
        "purge_schedule",
        "created_at",
    )
    save_on_top = False
    change_form_template = "admin/zones/zone/change_form.html"

    class Media:
        css = {"all": ["zones/admin.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*selectors.SECRET_COLUMNS)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            key_fields = ("key_action", "private_key")
        else:
            key_fields = (
                "key_type",
                "key_fingerprint",
                "authorized_keys",
                "key_action",
                "private_key",
            )
        fieldsets = [
            (None, {"fields": ("name", "enabled")}),
            (
                _("Storage server"),
                {"fields": ("server", "ssh_user", "ssh_port", "path_dst", "speed_kbps")},
            ),
            (
                _("Workstations"),
                {"fields": ("path_src", "file_extension", "file_name_pattern")},
            ),
            (
                _("Retention"),
                {
                    "fields": ("retention_days", "purge_time")
                    + (("purge_schedule",) if obj is not None else ()),
                    "description": _(
                        "Every day at the purge time the worker on the storage server deletes "
                        "the recordings whose retention is over. Disabling the zone stops it."
                    ),
                },
            ),
            (
                _("Video server (nginx)"),
                {"fields": ("public_scheme", "public_address", "public_port")},
            ),
            (
                _("Storage server host keys"),
                {
                    "fields": (() if obj is None else ("pinned_host_keys",))
                    + ("host_key_action", "host_keys_pasted", "host_keys_shown")
                    + ("host_keys_confirm",),
                    "description": _(
                        "Workstations connect only to a storage server that shows one of "
                        "these keys, so an impostor at its address gets nothing. Without "
                        "them workstations send nothing."
                    ),
                },
            ),
            (
                _("SSH key"),
                {
                    "fields": key_fields,
                    "description": _(
                        "All workstations of the zone use this key to upload recordings. "
                        "The storage server lets it do nothing but add new files to the "
                        "directory on the storage server."
                    ),
                },
            ),
        ]
        if obj is not None:
            fieldsets.append((None, {"fields": ("created_at",)}))
        return fieldsets

    # Django composes these titles from the model's name ("Изменить %s"), which leaves
    # «площадка» in the nominative where Russian needs the accusative: whole phrases instead.
    @method_decorator(sensitive_post_parameters("private_key"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is None:
            title = _("Add zone")
        elif self.has_change_permission(request):
            title = _("Change zone")
        else:
            title = _("View zone")
        extra_context = {"title": title, **(extra_context or {})}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context["zone_setup"] = self._setup_commands(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _setup_commands(self, obj: Zone) -> dict[str, str]:
        """What the top of a saved zone's page offers to copy: the storage server's line and
        the bootstrap.sh command that installs it, or why they cannot be built."""
        key = self._key_or_problem(obj)
        if not isinstance(key, ssh_keys.SshKey):
            return {"problem": key}
        try:
            line = selectors.zone_authorized_keys_line(zone=obj)
        except ValidationError as exc:
            return {"problem": " ".join(exc.messages)}
        return {"line": line, "command": selectors.zone_bootstrap_command(zone=obj, line=line)}

    def changelist_view(self, request, extra_context=None):
        if self.has_change_permission(request):
            title = _("Select zone to change")
        else:
            title = _("Select zone to view")
        extra_context = {"title": title, **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        action = form.cleaned_data["key_action"]
        pasted = form.cleaned_data.get("private_key") if action == KeyAction.PASTE else None
        try:
            if change:
                zone_update(
                    zone=obj, key_action=action, private_key=pasted, **form.model_fields_data()
                )
            else:
                key_type = action if action in (KeyAction.ED25519, KeyAction.RSA) else "ed25519"
                zone = zone_create(
                    key_type=str(key_type), private_key=pasted, **form.model_fields_data()
                )
                obj.pk = zone.pk
                obj._state.adding = False
                obj._state.db = zone._state.db
        except ValidationError as exc:
            # The form's clean() asked the same service, so this is a race lost to another
            # admin (the name taken a moment ago): nothing was saved, and the page says why.
            request._zone_not_saved = True
            self.message_user(
                request,
                _("The zone was not saved. %(reasons)s") % {"reasons": " ".join(exc.messages)},
                messages.ERROR,
            )
            return
        if action != KeyAction.KEEP:
            self.message_user(
                request,
                _(
                    "The zone has a new SSH key. Add the authorized_keys line shown below "
                    "for user %(user)s on %(server)s: until then the workstations cannot "
                    "upload recordings."
                )
                % {"user": obj.ssh_user, "server": obj.server},
                messages.WARNING,
            )
        if form.host_keys_new:
            self.message_user(
                request,
                _("Host keys pinned: %(keys)s. Workstations accept no other server.")
                % {"keys": "; ".join(k.describe() for k in host_keys.zone_host_keys(zone=obj))},
                messages.SUCCESS,
            )
        elif form.host_keys_new == "" or (not change and not obj.host_keys):
            self.message_user(request, _MSG_NO_HOST_KEYS, messages.WARNING)

    def log_addition(self, request, obj, message):
        if not getattr(request, "_zone_not_saved", False):
            super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if not getattr(request, "_zone_not_saved", False):
            super().log_change(request, obj, message)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_zone_not_saved", False):
            return HttpResponseRedirect(request.get_full_path())
        # Stay on the zone's page: it shows the line to install on the storage server.
        self._continue_editing(request)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "_zone_not_saved", False):
            return HttpResponseRedirect(request.get_full_path())
        changed_keys = request.POST.get("host_key_action") or HostKeyAction.KEEP
        if request.POST.get("key_action", KeyAction.KEEP) != KeyAction.KEEP or (
            changed_keys != HostKeyAction.KEEP
        ):
            self._continue_editing(request)
        return super().response_change(request, obj)

    @staticmethod
    def _continue_editing(request) -> None:
        if "_addanother" not in request.POST and IS_POPUP_VAR not in request.POST:
            request.POST = request.POST.copy()
            request.POST["_continue"] = "1"

    def get_deleted_objects(self, objs, request):
        dependents = selectors.zones_protected_dependents(zones=objs)
        if not dependents:
            return super().get_deleted_objects(objs, request)
        # Report the protection itself (Django would list every recording, or, since the
        # recordings admin is read-only, talk about missing permissions instead).
        protected = [
            _(
                "Zone “%(zone)s” has %(count)s %(what)s: they are kept for their retention "
                "period. Disable the zone instead of deleting it."
            )
            % {"zone": d.zone.name, "count": d.count, "what": d.what}
            for d in dependents
        ]
        return [], {}, set(), protected

    def delete_model(self, request, obj):
        zone_delete(zone=obj)

    def delete_queryset(self, request, queryset):
        # One by one through the service: each zone's purge schedule goes with it.
        for zone in queryset:
            zone_delete(zone=zone)

    # --- actions ----------------------------------------------------------------------------

    @admin.action(description=_("Regenerate video link secret"), permissions=["change"])
    def regenerate_link_secret(self, request, queryset):
        # Every link handed out breaks at once: the first POST (the action itself) only
        # shows what breaks; the page's own POST, with "confirm", does it.
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "admin/zones/zone/regenerate_link_secret.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Regenerate the video link secret?"),
                    "opts": self.model._meta,
                    "zones": [
                        (zone, *deployment.link_secret_reload_commands(zone_name=zone.name))
                        for zone in queryset.order_by("name")
                    ],
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        count = zones_link_secret_regenerate(zones=queryset)
        self.message_user(
            request,
            ngettext(
                "The video link secret of %(count)d zone was regenerated: links issued "
                "before stop working once its video server uses the new secret.",
                "The video link secrets of %(count)d zones were regenerated: links issued "
                "before stop working once their video servers use the new secrets.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
        return None

    # --- read-only displays -----------------------------------------------------------------

    @admin.display(description=_("video server"), ordering="public_address")
    def public_endpoint(self, obj: Zone) -> str:
        if not obj.public_address:
            return "—"
        if obj.public_port:
            return f"{obj.public_address}:{obj.public_port}"
        return obj.public_address

    @admin.display(description=_("purge schedule"))
    def purge_schedule(self, obj: Zone) -> str:
        task = zone_purge_schedule(zone=obj)
        if task is None:
            return _("None: the zone is disabled, nothing is deleted.")
        text = _("Every day at %(time)s (%(tz)s), on the worker of queue %(queue)s.") % {
            "time": f"{task.crontab.hour.zfill(2)}:{task.crontab.minute.zfill(2)}",
            "tz": task.crontab.timezone,
            "queue": task.queue,
        }
        if task.last_run_at:
            text += " " + _("Last sent: %(when)s.") % {
                "when": formats.localize(timezone.localtime(task.last_run_at))
            }
        return text

    @admin.display(description=_("pinned host keys"))
    def pinned_host_keys(self, obj: Zone) -> str:
        try:
            keys = host_keys.zone_host_keys(zone=obj)
        except ValidationError as exc:
            return _("The stored host keys are not usable: %(error)s") % {
                "error": " ".join(exc.messages)
            }
        if not keys:
            return _MSG_NO_HOST_KEYS
        return format_html(
            '{}<div class="mini quiet">{}</div>',
            format_html_join("", "<div><code>{}</code></div>", ((key.describe(),) for key in keys)),
            _("As ssh-keygen -lf prints them on the storage server %(server)s (port %(port)s).")
            % {"server": obj.server, "port": obj.ssh_port},
        )

    @admin.display(description=_("key type"))
    def key_type(self, obj: Zone) -> str:
        key = self._key_or_problem(obj)
        if isinstance(key, ssh_keys.SshKey):
            return _("%(algorithm)s, %(bits)s bits") % {
                "algorithm": key.algorithm,
                "bits": key.bits,
            }
        return key

    @admin.display(description=_("key fingerprint"))
    def key_fingerprint(self, obj: Zone) -> str:
        key = self._key_or_problem(obj)
        if isinstance(key, ssh_keys.SshKey):
            return format_html("<code>{}</code>", key.fingerprint)
        return "—"

    @admin.display(description=_("line for authorized_keys"))
    def authorized_keys(self, obj: Zone) -> str:
        if not isinstance(self._key_or_problem(obj), ssh_keys.SshKey):
            return "—"
        try:
            line = selectors.zone_authorized_keys_line(zone=obj)
        except ValidationError as exc:
            return _("Cannot build the line: %(error)s") % {"error": " ".join(exc.messages)}
        return format_html(
            '<textarea readonly rows="4" cols="100" class="vLargeTextField" '
            'spellcheck="false">{}</textarea><div class="help">{}</div>',
            line,
            _(
                "Install this line on %(server)s with docker/storage/bootstrap.sh --user "
                "%(user)s: it lets the key only add new plain files under %(path)s."
            )
            % {"user": obj.ssh_user, "server": obj.server, "path": obj.path_dst},
        )

    @staticmethod
    def _key_or_problem(obj: Zone) -> ssh_keys.SshKey | str:
        """The zone's key, or a sentence saying why it cannot be shown (parsed once per page)."""
        cached = getattr(obj, "_admin_key", None)
        if cached is not None:
            return cached
        try:
            result = selectors.zone_key(zone=obj)
        except FieldDecryptionError:
            result = _(
                "The stored key cannot be decrypted: FIELD_ENCRYPTION_KEYS does not hold the "
                "key it was encrypted with. Fix the setting, or generate or paste a new key."
            )
        except ValidationError as exc:
            result = _("The stored key is not usable: %(error)s") % {
                "error": " ".join(exc.messages)
            }
        obj._admin_key = result
        return result


_MSG_NO_HOST_KEYS = _(
    "No host key is pinned: workstations send nothing until one is. Choose 'Fetch them from "
    "the server' below and save."
)
