from django.apps import AppConfig, apps
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ZonesConfig(AppConfig):
    name = "zones"
    # Not «Площадки» alone: the breadcrumb would repeat the list's name.
    verbose_name = _("Zones and storage")
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        post_migrate.connect(_beat_entries_rename, sender=self)


def _beat_entries_rename(sender, using=DEFAULT_DB_ALIAS, plan=None, **kwargs) -> None:
    """After ``migrate``: the zones' beat entries of the older naming renamed after their
    zone (zones.beat.legacy_entries_rename), so an upgrade needs no step of its own. Only
    where beat's tables are (the workstation client runs without django-celery-beat), and
    not after a flush (``plan`` is None then: the tables are empty anyway)."""
    if plan is None or not apps.is_installed("django_celery_beat"):
        return
    from django_celery_beat.models import PeriodicTask

    tables = connections[using].introspection.table_names()
    if PeriodicTask._meta.db_table not in tables:
        return
    # The kinds register themselves when their modules load.
    from . import capacity_schedule, fixity_schedule, media_schedule, purge_schedule  # noqa: F401
    from .beat import legacy_entries_rename

    with transaction.atomic(using=using):
        legacy_entries_rename()
