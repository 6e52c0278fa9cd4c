"""The view CLIENT_ZONE_KEY: each client login reads only its own zone's sealed ssh key.

A workstation's database login used to read CONFIG.RSA_KEY of every zone, and db.conf
carried the web's FIELD_ENCRYPTION_KEYS, which decrypt it: one workstation held every
zone's key. Now each zone has logins of its own (``manage.py client_grants --zone Z``
lists one in CLIENT_LOGIN with its zone, ``0005_client_login_zone``), and the one place a
login reads key material is this view:

    CLIENT_ZONE_KEY (ZONE_ID, CLIENT_RSA_KEY) = the CONFIG row of the zone that the
    session's own login is listed for in CLIENT_LOGIN

``SQL SECURITY DEFINER``: the view reads CONFIG and CLIENT_LOGIN with its definer's
privileges (the user that runs migrate), which the client's login does not have, while
``USER()`` inside it is still the session's login (``CURRENT_USER()`` would be the
definer). The value is the zone's ssh key sealed under the zone's own client key, which only
that zone's workstations hold; a login listed without a zone (the old shared login) sees no
row at all.

On SQLite (``make run``) the view is unfiltered, so the ORM query works; ``client_agent.apps``
drops it before and re-creates it after every ``migrate`` there, because SQLite refuses to
rebuild a table (as Django does to change one) that a view names.

The SQL is written out here, from the models as they are at this migration.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, migrations

VIEW = "CLIENT_ZONE_KEY"
# ER_TABLEACCESS_DENIED_ERROR (no CREATE VIEW), ER_SPECIFIC_ACCESS_DENIED_ERROR.
PRIVILEGE_ERRORS = {1142, 1227}
PRIVILEGE_HINT = (
    "Creating the view {view} needs the CREATE VIEW privilege for the database user that runs "
    "migrate (GRANT CREATE VIEW ON `{database}`.* TO <that user>); see README, \"Database "
    'users". The server said: {error}'
)
# USER() is 'name@host'; the name is cut at the last '@' (a host never contains one, a
# quoted user name may), as in 0004_client_row_checks.
LOGIN_NAME = "LEFT(USER(), CHAR_LENGTH(USER()) - CHAR_LENGTH(SUBSTRING_INDEX(USER(), '@', -1)) - 1)"


def view_sql(*, q, zone, login, vendor: str) -> str:
    config = q(zone._meta.db_table)
    zone_id = f"{config}.{q(zone._meta.pk.column)}"
    sealed = f"{config}.{q(zone._meta.get_field('client_ssh_key').column)}"
    select = f"SELECT {zone_id} AS {q('ZONE_ID')}, {sealed} AS {q('CLIENT_RSA_KEY')} FROM {config}"
    if vendor != "mysql":
        return f"CREATE VIEW {q(VIEW)} AS {select}"
    logins = q(login._meta.db_table)
    user = f"{logins}.{q(login._meta.get_field('user').column)}"
    login_zone = f"{logins}.{q(login._meta.get_field('zone').column)}"
    return (
        f"CREATE OR REPLACE SQL SECURITY DEFINER VIEW {q(VIEW)} AS {select} "
        f"JOIN {logins} ON {login_zone} = {zone_id} "
        f"WHERE CAST({user} AS BINARY) = CAST({LOGIN_NAME} AS BINARY)"
    )


def view_create(apps, schema_editor):
    connection = schema_editor.connection
    q = connection.ops.quote_name
    sql = view_sql(
        q=q,
        zone=apps.get_model("zones", "Zone"),
        login=apps.get_model("client_agent", "ClientDatabaseLogin"),
        vendor=connection.vendor,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP VIEW IF EXISTS {q(VIEW)}")
        try:
            cursor.execute(sql)
        except DatabaseError as exc:
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
            if connection.vendor != "mysql" or code not in PRIVILEGE_ERRORS:
                raise
            raise ImproperlyConfigured(
                PRIVILEGE_HINT.format(
                    view=VIEW, database=connection.settings_dict["NAME"], error=exc
                )
            ) from exc


def view_drop(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(f"DROP VIEW IF EXISTS {connection.ops.quote_name(VIEW)}")


class Migration(migrations.Migration):
    dependencies = [
        ("client_agent", "0005_client_login_zone"),
        ("zones", "0003_zone_client_key_host_keys"),
    ]

    operations = [
        migrations.RunPython(view_create, view_drop),
    ]
