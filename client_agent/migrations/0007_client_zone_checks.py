"""A per-zone client login writes only its own zone's VIDEO and WORKSTATION rows.

With a login per zone (``0005_client_login_zone``, ``0006_client_zone_key_view``), whoever
holds one workstation should harm nothing beyond its zone. The checks of ``0004_client_row_checks`` keep a login's VIDEO
rows honest about their file; this adds, for a login listed with a zone:

- VIDEO: the row's ZONE_ID must be the login's zone (otherwise it could register, with
  another zone's retention, rows for files in another zone's storage tree that it cannot
  even reach, and so keep that zone's workstations from registering theirs);
- WORKSTATION (the heartbeat): a row is written as the login's zone's, whatever ZONE_ID the
  client sent (a client that found the wrong zone still shows up under the zone it really
  serves, with the zone name it found), and a row that already belongs to another zone may
  not be changed (otherwise a zone-A workstation could keep reporting a broken zone-B
  workstation as healthy, or make a healthy one look dead).

Logins listed without a zone (the old shared login) keep the checks of 0004 only, and
logins not listed are not checked at all, as before. VIDEO's rules are those of 0004, read
from that migration (which never changes), with the zone rule after "ZONE_ID is not a zone
in CONFIG". MySQL/MariaDB only; on SQLite (``make run``) this does nothing.
"""

from importlib import import_module

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, migrations

checks_0004 = import_module("client_agent.migrations.0004_client_row_checks")

VIDEO_TRIGGER = checks_0004.TRIGGER
WORKSTATION_INSERT = "WORKSTATION_CLIENT_ZONE_INSERT"
WORKSTATION_UPDATE = "WORKSTATION_CLIENT_ZONE_UPDATE"
ZONE_RULE = "ZONE_ID is not the zone this database login is listed for in CLIENT_LOGIN"
HEARTBEAT_REFUSED = (
    "workstation client's WORKSTATION row refused: HOST is another zone's workstation"
)
LOGIN_NAME = "LEFT(USER(), CHAR_LENGTH(USER()) - CHAR_LENGTH(SUBSTRING_INDEX(USER(), '@', -1)) - 1)"


def _signal(message: str) -> str:
    if len(message) > 128:
        raise ValueError(f"longer than MESSAGE_TEXT may be: {message}")
    quoted = message.replace("'", "''")
    return f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{quoted}';"


def _login_lookup(q, login) -> str:
    """Sets ``logins`` (0 or 1) and ``login_zone`` for the session's user name."""
    return (
        f"  SELECT COUNT(*), MAX({q(login._meta.get_field('zone').column)}) "
        f"INTO logins, login_zone FROM {q(login._meta.db_table)} "
        f"WHERE CAST({q(login._meta.get_field('user').column)} AS BINARY) = "
        f"CAST({LOGIN_NAME} AS BINARY);\n"
    )


def video_trigger_sql(*, q, video, zone, login) -> str:
    zone_id = "NEW." + q(video._meta.get_field("zone").column)
    rules = list(checks_0004._rules(q, video))
    at = next(i for i, (_c, m) in enumerate(rules) if m == "ZONE_ID is not a zone in CONFIG")
    rules.insert(at + 1, (f"login_zone IS NOT NULL AND NOT ({zone_id} <=> login_zone)", ZONE_RULE))
    body = "\n".join(
        f"    IF {condition} THEN\n      {_signal(checks_0004.REFUSED + message)}\n    END IF;"
        for condition, message in rules
    )
    return (
        f"CREATE TRIGGER {q(VIDEO_TRIGGER)} BEFORE INSERT ON {q(video._meta.db_table)}\n"
        f"FOR EACH ROW\n"
        f"BEGIN\n"
        f"  DECLARE zone_rows INT DEFAULT 0;\n"
        f"  DECLARE zone_retention INT DEFAULT NULL;\n"
        f"  DECLARE logins INT DEFAULT 0;\n"
        f"  DECLARE login_zone BIGINT DEFAULT NULL;\n"
        f"{_login_lookup(q, login)}"
        f"  IF logins > 0 THEN\n"
        # An aggregate always returns one row: no "no data" condition for a missing zone.
        f"    SELECT COUNT(*), MAX({q(zone._meta.get_field('retention_days').column)}) "
        f"INTO zone_rows, zone_retention FROM {q(zone._meta.db_table)} "
        f"WHERE {q(zone._meta.pk.column)} = {zone_id};\n"
        f"{body}\n"
        f"  END IF;\n"
        f"END"
    )


def workstation_trigger_sql(*, q, workstation, login, event: str) -> str:
    name = WORKSTATION_INSERT if event == "INSERT" else WORKSTATION_UPDATE
    zone_column = q(workstation._meta.get_field("zone").column)
    refuse_other = (
        f"    IF OLD.{zone_column} IS NOT NULL AND OLD.{zone_column} <> login_zone THEN\n"
        f"      {_signal(HEARTBEAT_REFUSED)}\n"
        f"    END IF;\n"
        if event == "UPDATE"
        else ""
    )
    return (
        f"CREATE TRIGGER {q(name)} BEFORE {event} ON {q(workstation._meta.db_table)}\n"
        f"FOR EACH ROW\n"
        f"BEGIN\n"
        f"  DECLARE logins INT DEFAULT 0;\n"
        f"  DECLARE login_zone BIGINT DEFAULT NULL;\n"
        f"{_login_lookup(q, login)}"
        f"  IF login_zone IS NOT NULL THEN\n"
        f"{refuse_other}"
        f"    SET NEW.{zone_column} = login_zone;\n"
        f"  END IF;\n"
        f"END"
    )


def _create(connection, name: str, sql: str) -> None:
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        # A run that failed for want of the privilege is simply run again once it is given.
        cursor.execute(f"DROP TRIGGER IF EXISTS {q(name)}")
        try:
            cursor.execute(sql)
        except DatabaseError as exc:
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
            if code not in checks_0004.PRIVILEGE_ERRORS:
                raise
            raise ImproperlyConfigured(
                checks_0004.PRIVILEGE_HINT.format(
                    trigger=name, database=connection.settings_dict["NAME"], error=exc
                )
            ) from exc


def create_triggers(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "mysql":
        return
    q = connection.ops.quote_name
    login = apps.get_model("client_agent", "ClientDatabaseLogin")
    workstation = apps.get_model("client_agent", "Workstation")
    sql = video_trigger_sql(
        q=q, video=apps.get_model("storage", "Video"), zone=apps.get_model("zones", "Zone"),
        login=login,
    )
    _create(connection, VIDEO_TRIGGER, sql)
    for event, name in (("INSERT", WORKSTATION_INSERT), ("UPDATE", WORKSTATION_UPDATE)):
        sql = workstation_trigger_sql(q=q, workstation=workstation, login=login, event=event)
        _create(connection, name, sql)


def drop_triggers(apps, schema_editor):
    """Back to 0004: its VIDEO trigger, no WORKSTATION triggers."""
    connection = schema_editor.connection
    if connection.vendor != "mysql":
        return
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        for name in (WORKSTATION_INSERT, WORKSTATION_UPDATE):
            cursor.execute(f"DROP TRIGGER IF EXISTS {q(name)}")
    checks_0004.create_trigger(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("client_agent", "0006_client_zone_key_view"),
        ("storage", "0005_purgerun_differs"),
    ]

    operations = [
        # Not atomic: MySQL commits around CREATE TRIGGER anyway.
        migrations.RunPython(create_triggers, drop_triggers, atomic=False),
    ]
