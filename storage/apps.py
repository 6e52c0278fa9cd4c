from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StorageConfig(AppConfig):
    name = "storage"
    # Not «Записи» alone: the breadcrumb would repeat the list's name.
    verbose_name = _("Recording storage")
