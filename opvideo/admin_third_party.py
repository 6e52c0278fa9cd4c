"""The third-party admins, re-registered where their English is in code, not in a message.

The catalogue (opvideo.admin_msgids) rewords what django-axes and django-celery-beat pass
through gettext; what they do not (a column named after a method, a schedule described by
cron-descriptor in English, the permission names Django stores in English when it creates
them) is given here. opvideo.admin_site.AdminConfig.ready runs ``reregister`` after the
admin modules are loaded.
"""

from axes import admin as axes_admin
from axes.conf import settings as axes_settings
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from cron_descriptor import ExpressionDescriptor, Options
from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group, Permission, User
from django.utils.text import capfirst
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

_ACTIONS = {
    "add": lambda: pgettext("permission", "Can add"),
    "change": lambda: pgettext("permission", "Can change"),
    "delete": lambda: pgettext("permission", "Can delete"),
    "view": lambda: pgettext("permission", "Can view"),
}


def permission_label(permission: Permission) -> str:
    """«Площадки и хранилища | Площадки | Может изменять»: Django stores the names of the
    permissions it creates ("Can change zone") in English, once, at migrate time."""
    model = permission.content_type.model_class()
    if model is None:
        return str(permission)
    opts = model._meta
    action, _sep, model_name = permission.codename.partition("_")
    if model_name == opts.model_name and action in _ACTIONS:
        what = _ACTIONS[action]()
    else:
        what = _(permission.name)  # a Meta.permissions name: its msgid is in the catalogue
    return f"{opts.app_config.verbose_name} | {capfirst(opts.verbose_name_plural)} | {what}"


class _PermissionLabels:
    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.related_model is Permission:
            field.label_from_instance = permission_label
        return field


class GroupAdmin(_PermissionLabels, auth_admin.GroupAdmin):
    pass


class UserAdmin(_PermissionLabels, auth_admin.UserAdmin):
    pass


# --- django-axes ----------------------------------------------------------------------------


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    @admin.action(description=_("Clean up expired attempts"))
    def cleanup_expired_attempts(self, request, queryset):
        # axes says so in an English f-string, outside gettext; and its handler reads the
        # attributes only a sign-in gives a request (without them: AttributeError, a 500).
        AxesProxyHandler.update_request(request)
        count = self.handler.clean_expired_user_attempts(request=request)
        self.message_user(
            request,
            ngettext(
                "%(count)s expired sign-in attempt deleted.",
                "%(count)s expired sign-in attempts deleted.",
                count,
            )
            % {"count": count},
        )

    @admin.display(description=_("state"))
    def status(self, obj: AccessAttempt) -> str:
        left = axes_settings.AXES_FAILURE_LIMIT - obj.failures_since_start
        if left > 0:
            return _("%(count)s attempts left") % {"count": left}
        return _("Locked Out")

    @admin.display(description=_("Expires At"))
    def expiration(self, obj: AccessAttempt):
        return super().expiration(obj)


# --- django-celery-beat ---------------------------------------------------------------------


def crontab_in_words(crontab: CrontabSchedule) -> str:
    """cron-descriptor's description, in the admin's language (it has Russian)."""
    fields = (
        crontab.minute,
        crontab.hour,
        crontab.day_of_month,
        crontab.month_of_year,
        crontab.day_of_week,
    )
    options = Options()
    options.locale_code = "ru_RU" if (get_language() or "").startswith("ru") else "en_US"
    options.use_24hour_time_format = True
    try:
        words = ExpressionDescriptor(" ".join(fields), options).get_description()
    except Exception:  # cron-descriptor's several errors for an expression it cannot read
        return " ".join(fields)
    return f"{words} ({crontab.timezone})"


class _TaskNameFilter(admin.AllValuesFieldListFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = _("task")  # the model names it 'Task Name', outside gettext


class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin):
    list_display = (
        "name",
        "enabled",
        "schedule_kind",
        "interval",
        "start_time",
        "last_run_at",
        "one_off",
    )
    list_filter = ["enabled", "one_off", ("task", _TaskNameFilter), "start_time", "last_run_at"]

    @admin.display(description=_("kind of schedule"))
    def schedule_kind(self, obj: PeriodicTask) -> str:
        for schedule in (obj.interval, obj.crontab, obj.solar, obj.clocked):
            if schedule is not None:
                return str(schedule._meta.verbose_name)
        return "—"

    @admin.display(description=_("cron schedule in words"))
    def crontab_translation(self, obj: PeriodicTask) -> str:
        return crontab_in_words(obj.crontab) if obj.crontab else "—"

    @admin.action(description=_("Run selected tasks"))
    def run_tasks(self, request, queryset):
        # beat counts the tasks it started with English plurals ("1 task was successfully
        # run"); its success message is replaced by one counted in Russian.
        request._beat_tasks_started = queryset.count()
        return super().run_tasks(request, queryset)

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        started = getattr(request, "_beat_tasks_started", None)
        if started is not None and level == messages.INFO:
            request._beat_tasks_started = None
            message = ngettext("%(count)s task started.", "%(count)s tasks started.", started) % {
                "count": started
            }
        return super().message_user(request, message, level, *args, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "task" and field is not None:
            field.label = _("Task (custom)")
        return field

    def render_change_form(self, request, context, *args, **kwargs):
        # The crontab picker's description, shown beside it by beat's own script.
        context["readable_crontabs"] = {
            crontab.pk: crontab_in_words(crontab) for crontab in CrontabSchedule.objects.all()
        }
        return super().render_change_form(request, context, *args, **kwargs)


class PeriodicTaskInline(beat_admin.PeriodicTaskInline):
    fields = ("name", "task_name", "args", "kwargs")
    readonly_fields = fields

    @admin.display(description=_("task"))
    def task_name(self, obj: PeriodicTask) -> str:
        return obj.task  # the model names it 'Task Name', outside gettext


class ClockedScheduleAdmin(beat_admin.ClockedScheduleAdmin):
    inlines = [PeriodicTaskInline]


class IntervalScheduleAdmin(beat_admin.IntervalScheduleAdmin):
    inlines = [PeriodicTaskInline]


class SolarScheduleAdmin(beat_admin.SolarScheduleAdmin):
    inlines = [PeriodicTaskInline]


class CrontabScheduleAdmin(beat_admin.CrontabScheduleAdmin):
    inlines = [PeriodicTaskInline]
    list_display = ("__str__", "in_words")
    fields = (
        "in_words",
        "minute",
        "hour",
        "day_of_month",
        "month_of_year",
        "day_of_week",
        "timezone",
    )
    readonly_fields = ("in_words",)

    @admin.display(description=_("in words"))
    def in_words(self, obj: CrontabSchedule) -> str:
        return crontab_in_words(obj)


REPLACEMENTS = {
    Group: GroupAdmin,
    User: UserAdmin,
    AccessAttempt: AccessAttemptAdmin,
    PeriodicTask: PeriodicTaskAdmin,
    CrontabSchedule: CrontabScheduleAdmin,
    ClockedSchedule: ClockedScheduleAdmin,
    IntervalSchedule: IntervalScheduleAdmin,
    SolarSchedule: SolarScheduleAdmin,
}


def reregister(site) -> None:
    for model, admin_class in REPLACEMENTS.items():
        if site.is_registered(model):
            site.unregister(model)
            site.register(model, admin_class)
