"""Admin phrases built from a model's name, in the case, gender and number Russian needs.

``GrammarMixin`` is mixed into every ModelAdmin the project's admin site registers, the
third-party ones included (opvideo.admin_site): it gives the page titles the accusative
(«Изменить площадку»), the messages after adding, changing and deleting the right
participle («Площадка «kursk» добавлена.»), the bulk deletion a counted form («Удалено
5 площадок.») and the change history field names that translate. The templates in
templates/admin use the filters of this module (``{% load admin_grammar %}``) for the
count under a list, the add button, "select all" and the delete confirmations.

A model without forms in opvideo.admin_nouns keeps Django's own phrases.
"""

from django import template
from django.contrib import messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import quote
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext, npgettext, pgettext_lazy
from django.utils.translation import override as translation_override

from opvideo.admin_nouns import Noun, noun

register = template.Library()

_GENDERS = {"m": "masculine", "f": "feminine", "n": "neuter"}


def gender(forms: Noun) -> str:
    return _GENDERS.get(str(forms.gender), "masculine")


def accusative(opts) -> str:
    forms = noun(opts)
    return str(forms.accusative if forms else opts.verbose_name)


def counted(count: int, opts) -> str:
    forms = noun(opts)
    if forms is None:
        name = opts.verbose_name if count == 1 else opts.verbose_name_plural
        return f"{count} {name}"
    return forms.counted % {"count": count}


# Each gender's phrases, written out so that makemessages finds every msgid and context.
_DONE = {
    "masculine": {
        "added": pgettext_lazy("masculine", "The {name} “{obj}” was added."),
        "changed": pgettext_lazy("masculine", "The {name} “{obj}” was changed."),
        "deleted": pgettext_lazy("masculine", "The {name} “{obj}” was deleted."),
        "again": pgettext_lazy("masculine", "You may edit it again below."),
        "many": lambda n: npgettext("masculine", "Deleted {items}.", "Deleted {items}.", n),
    },
    "feminine": {
        "added": pgettext_lazy("feminine", "The {name} “{obj}” was added."),
        "changed": pgettext_lazy("feminine", "The {name} “{obj}” was changed."),
        "deleted": pgettext_lazy("feminine", "The {name} “{obj}” was deleted."),
        "again": pgettext_lazy("feminine", "You may edit it again below."),
        "many": lambda n: npgettext("feminine", "Deleted {items}.", "Deleted {items}.", n),
    },
    "neuter": {
        "added": pgettext_lazy("neuter", "The {name} “{obj}” was added."),
        "changed": pgettext_lazy("neuter", "The {name} “{obj}” was changed."),
        "deleted": pgettext_lazy("neuter", "The {name} “{obj}” was deleted."),
        "again": pgettext_lazy("neuter", "You may edit it again below."),
        "many": lambda n: npgettext("neuter", "Deleted {items}.", "Deleted {items}.", n),
    },
}


def _phrases(opts) -> dict:
    return _DONE[gender(noun(opts))]


def _done(opts, action: str, obj_repr) -> str:
    """«Площадка «kursk» добавлена.»: the participle agrees with the model's gender."""
    # The name starts the Russian sentence, not the English one: capitalise the sentence.
    # format_html has escaped every part; capfirst only changes the first letter.
    html = format_html(_phrases(opts)[action], name=opts.verbose_name, obj=obj_repr)
    return mark_safe(capfirst(html))  # noqa: S308


def _deleted_many(opts, count: int) -> str:
    return _phrases(opts)["many"](count).format(items=counted(count, opts))


# --- Template filters ---------------------------------------------------------------------


@register.filter
def add_title(opts) -> str:
    """The add button and the add page's breadcrumb: «Добавить площадку»."""
    return gettext("Add %s") % accusative(opts)


@register.filter
def count_of(count, opts) -> str:
    """«1 площадка», «3 площадки», «0 площадок»."""
    return counted(int(count), opts)


@register.filter
def accusative_of(opts) -> str:
    return accusative(opts)


@register.filter
def selected_of(opts) -> str:
    """«выбранные площадки», «выбранных пользователей»."""
    forms = noun(opts)
    if forms is None:
        return gettext("selected %(name)s") % {"name": opts.verbose_name_plural}
    return str(forms.selected)


class GrammarMixin:
    """Mixed in first, before the model's own ModelAdmin (see opvideo.admin_site)."""

    def _title_context(self, title: str, extra_context) -> dict:
        return {"title": title, **(extra_context or {})}

    def changelist_view(self, request, extra_context=None):
        if IS_POPUP_VAR in request.GET:
            title = gettext("Select %s")
        elif self.has_change_permission(request):
            title = gettext("Select %s to change")
        else:
            title = gettext("Select %s to view")
        title = title % accusative(self.opts)
        return super().changelist_view(request, self._title_context(title, extra_context))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is None or "_saveasnew" in request.POST:
            title = gettext("Add %s")
        elif self.has_change_permission(request):
            title = gettext("Change %s")
        else:
            title = gettext("View %s")
        title = capfirst(title % accusative(self.opts))
        return super().changeform_view(
            request, object_id, form_url, self._title_context(title, extra_context)
        )

    def render_delete_form(self, request, context):
        # Django titles a refused deletion "Cannot delete <nominative>"; the rest of the
        # page is reworded in templates/admin/delete_confirmation.html.
        if context.get("perms_lacking") or context.get("protected"):
            context["title"] = gettext("Cannot delete %(name)s") % {"name": accusative(self.opts)}
        context["object_name_accusative"] = accusative(self.opts)
        return super().render_delete_form(request, context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            func, name, _description = actions["delete_selected"]
            description = capfirst(
                gettext("Delete %(selected)s") % {"selected": selected_of(self.opts)}
            )
            actions["delete_selected"] = (func, name, description)
        return actions

    # --- Messages: Django's are replaced by ones that agree, when Django's is the one sent.

    def response_add(self, request, obj, post_url_continue=None):
        request._grammar_done = ("added", obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        request._grammar_done = ("changed", obj)
        return super().response_change(request, obj)

    def response_delete(self, request, obj_display, obj_id):
        request._grammar_done = ("deleted", obj_display)
        return super().response_delete(request, obj_display, obj_id)

    def delete_queryset(self, request, queryset):
        request._grammar_done = ("deleted_many", queryset.count())
        return super().delete_queryset(request, queryset)

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        done = getattr(request, "_grammar_done", None)
        if done and level == messages.SUCCESS and noun(self.opts) is not None:
            request._grammar_done = None
            message = self._done_message(request, *done)
        return super().message_user(request, message, level, *args, **kwargs)

    def _done_message(self, request, action: str, obj) -> str:
        opts = self.opts
        if action == "deleted_many":
            return _deleted_many(opts, obj)
        if action == "deleted":
            return _done(opts, action, obj)
        if self.has_change_permission(request, obj):
            url = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change",
                args=(quote(obj.pk),),
                current_app=self.admin_site.name,
            )
            obj_repr = format_html('<a href="{}">{}</a>', url, obj)
        else:
            obj_repr = str(obj)
        message = _done(opts, action, obj_repr)
        if "_continue" in request.POST:
            message = format_html("{} {}", message, _phrases(opts)["again"])
        elif "_addanother" in request.POST:
            more = gettext("You may add another {name} below.").format(name=accusative(opts))
            message = format_html("{} {}", message, more)
        return message

    def construct_change_message(self, request, form, formsets, add=False):
        """Keep a model field's own name (its msgid) in the history, not the form's label.

        Django stores the label in English, capitalised ("Retention, days"), and translates
        it when the history is shown: the catalogue has "retention, days", so the Russian
        history read «Изменено Retention, days.».
        """
        change = super().construct_change_message(request, form, formsets, add)
        for entry in change:
            if (
                "changed" in entry
                and "fields" in entry["changed"]
                and "name" not in entry["changed"]
            ):
                entry["changed"]["fields"] = self._field_msgids(form)
        return change

    def _field_msgids(self, form) -> list[str]:
        names = []
        changed = form.changed_data
        with translation_override(None):
            for field_name in changed:
                field = form.fields.get(field_name)
                label = str(field.label or field_name) if field else field_name
                try:
                    verbose = str(self.opts.get_field(field_name).verbose_name)
                except Exception:  # a form-only field: its label is its msgid
                    verbose = None
                names.append(verbose if verbose and label == capfirst(verbose) else label)
        return names
