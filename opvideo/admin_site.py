"""The project's admin site: Russian phrases for every model, and the index in working order.

``AdminConfig`` replaces django.contrib.admin in INSTALLED_APPS and makes ``OPVideoAdminSite``
the default site, so ``admin.site`` and ``@admin.register`` (ours and the third-party apps')
all land here. Every ModelAdmin registered gets opvideo.admin_grammar's GrammarMixin.

The index (and the menu beside every admin page, which shows the same list) puts the
everyday sections first, zones and workstations at the top, and the third-party ones (users
and groups, sign-in protection, the task schedule) last under one "Service" heading.
The app configs below rename the third-party apps so that nothing there reads like the
recordings' access audit.
"""

from axes.apps import AppConfig as AxesAppConfig
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.db import models as db_models
from django.db.models.base import ModelBase
from django.utils.translation import gettext_lazy as _
from django_celery_beat.apps import BeatConfig as DjangoBeatConfig

from opvideo.admin_grammar import GrammarMixin

# The everyday sections, in this order; any other project app follows them.
MAIN_APPS = ("zones", "client_agent", "storage", "search")
# Kept under the "Service" heading at the bottom, in this order.
SERVICE_APPS = ("auth", "axes", "django_celery_beat")
# A list's name where the model's verbose_name_plural is not one: django-celery-beat names
# both forms of ClockedSchedule "clocked".
LIST_NAMES = {"django_celery_beat.clockedschedule": _("one-off runs")}


class OPVideoAdminSite(admin.AdminSite):
    site_header = "OPVideo"
    site_title = "OPVideo"

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, GrammarMixin):
            admin_class = type(
                admin_class.__name__,
                (GrammarMixin, admin_class),
                {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
            )
        models = (
            [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else model_or_iterable
        )
        for model in models:
            cls = admin_class
            if _on_datetime(model, cls.date_hierarchy):
                # A drill-down by date on a DateTimeField converts time zones in MariaDB,
                # which fails without its time-zone tables (as storage.admin notes): the
                # list of sign-in attempts or of tasks would be a server error. Ours have
                # none; the third-party ones lose theirs.
                cls = type(
                    cls.__name__, (cls,), {"date_hierarchy": None, "__module__": cls.__module__}
                )
            super().register(model, cls, **options)

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        order = {label: n for n, label in enumerate(MAIN_APPS)}
        service = {label: n for n, label in enumerate(SERVICE_APPS)}

        def place(app):
            label = app["app_label"]
            if label in service:
                return (2, service[label])
            return (0, order[label]) if label in order else (1, 0)

        apps.sort(key=place)
        for app in apps:
            for model in app["models"]:
                name = LIST_NAMES.get(model["model"]._meta.label_lower)
                if name is not None:
                    model["name"] = name
        if app_label is None:
            first = next((a for a in apps if a["app_label"] in service), None)
            if first is not None:
                first["service_heading"] = True  # templates/admin/app_list.html
        return apps


def _on_datetime(model, field_name: str | None) -> bool:
    if not field_name or "__" in field_name:
        return False
    return isinstance(model._meta.get_field(field_name), db_models.DateTimeField)


class AdminConfig(DjangoAdminConfig):
    default_site = "opvideo.admin_site.OPVideoAdminSite"

    def ready(self):
        super().ready()  # loads every app's admin module
        from opvideo.admin_row_names import rename
        from opvideo.admin_third_party import reregister

        reregister(self.module.site)
        rename()


class AxesConfig(AxesAppConfig):
    # "Axes" means nothing to an admin; and its logs are not the recordings' access audit.
    verbose_name = _("Sign-in protection")


class BeatConfig(DjangoBeatConfig):
    verbose_name = _("Background task schedule")
