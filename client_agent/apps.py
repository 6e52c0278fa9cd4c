from importlib import import_module

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate, pre_migrate
from django.utils.translation import gettext_lazy as _

# The migration that creates the view CLIENT_ZONE_KEY (its SQL lives there).
VIEW_MIGRATION = ("client_agent", "0006_client_zone_key_view")


class ClientAgentConfig(AppConfig):
    name = "client_agent"
    # Not «Рабочие места» alone: the breadcrumb would repeat the list's name.
    verbose_name = _("Workstation fleet")

    def ready(self) -> None:
        pre_migrate.connect(_sqlite_view_drop, sender=self)
        post_migrate.connect(_sqlite_view_create, sender=self)


# SQLite (``make run``) cannot rename a table while a view names it, and Django changes a
# table there by building a new one and renaming it: a later migration that changes CONFIG
# or CLIENT_LOGIN would fail with "error in view CLIENT_ZONE_KEY". So on SQLite the view is
# taken away for the length of every ``migrate`` and put back after it. MariaDB alters
# tables in place and keeps the view.


def _sqlite_view_drop(sender, using, **kwargs) -> None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    view = import_module("client_agent.migrations.0006_client_zone_key_view").VIEW
    with connection.cursor() as cursor:
        cursor.execute(f"DROP VIEW IF EXISTS {connection.ops.quote_name(view)}")


def _sqlite_view_create(sender, using, apps=None, **kwargs) -> None:
    # ``apps``: the migrated state, from migrate; flush sends the signal without it.
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    if apps is None:
        from django.apps import apps
    from django.db.migrations.recorder import MigrationRecorder

    if VIEW_MIGRATION not in MigrationRecorder(connection).applied_migrations():
        return
    migration = import_module("client_agent.migrations.0006_client_zone_key_view")
    sql = migration.view_sql(
        q=connection.ops.quote_name,
        zone=apps.get_model("zones", "Zone"),
        login=apps.get_model("client_agent", "ClientDatabaseLogin"),
        vendor=connection.vendor,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP VIEW IF EXISTS {connection.ops.quote_name(migration.VIEW)}")
        cursor.execute(sql)
