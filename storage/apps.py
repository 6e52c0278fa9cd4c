from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StorageConfig(AppConfig):
    name = "storage"
    # Not «Записи» alone: the breadcrumb would read «Записи › Записи».
    verbose_name = _("Recording storage")
