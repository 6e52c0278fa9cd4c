from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ZonesConfig(AppConfig):
    name = "zones"
    # Not «Площадки» alone: the breadcrumb would read «Площадки › Площадки».
    verbose_name = _("Zones and storage")
    default_auto_field = "django.db.models.AutoField"
