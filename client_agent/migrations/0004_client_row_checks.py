"""VIDEO checks the rows the workstation clients' login inserts (README, "The database user").

One login is shared by every workstation of every site, so whoever holds a workstation holds
it. Without these checks such a person could pre-write a row for another workstation's file
(no size, no hash, STORAGE_DAYS 0, a date in 2000): the owner's INSERT would be skipped as a
duplicate and the next purge would delete the stored copy. The database itself now refuses a
row from that login unless it describes one file in the writing workstation's own directory,
with its size and its SHA-256 taken on the workstation, kept for its zone's retention, and
not recorded in the future.

Only logins listed in CLIENT_LOGIN are checked (``manage.py client_grants`` prints the
INSERT that lists one): rows from the web, the retention workers, adoption, or an old
client's own login during the switch-over are not.

The SQL is written out here, from the models as they are at this migration, and not imported
from the app: a later change of the rules is a new migration that replaces the trigger.
MySQL/MariaDB only; on SQLite (``make run``) this does nothing.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, migrations

TRIGGER = "VIDEO_CLIENT_ROW_CHECK"
# What the client registers as HASH_ORIGIN (storage.models.HashOrigin.WORKSTATION).
ORIGIN_WORKSTATION = "workstation"
# ER_TABLEACCESS_DENIED_ERROR (no TRIGGER privilege), ER_BINLOG_CREATE_ROUTINE_NEED_SUPER,
# ER_SPECIFIC_ACCESS_DENIED_ERROR.
PRIVILEGE_ERRORS = {1142, 1419, 1227}
PRIVILEGE_HINT = (
    "Creating the VIDEO trigger {trigger} needs the TRIGGER privilege for the database user "
    "that runs migrate (GRANT TRIGGER ON `{database}`.* TO <that user>), and with binary "
    "logging on also SUPER or the server setting log_bin_trust_function_creators=1; see "
    "README, \"Database users\". The server said: {error}"
)

# (condition on NEW, message): checked in this order, the first that holds refuses the row.
# Each message names the rule, so the client's log says what to fix. At most 128
# characters: MySQL's MESSAGE_TEXT limit.
REFUSED = "workstation client's VIDEO row refused: "


def _rules(q, video):
    def col(name):
        return "NEW." + q(video._meta.get_field(name).column)

    workstation, file_name = col("workstation"), col("file_name")
    size, content_hash, origin = col("size"), col("content_hash"), col("hash_origin")
    # Everything compared byte for byte: WORKSTATION's collation ignores case and accents
    # (FILE_NAME's does not), and LIKE would let a workstation named '%' or 'op_1' claim
    # other workstations' directories. Lengths in bytes for the same reason.
    prefix = f"CAST(CONCAT({workstation}, '/') AS BINARY)"
    head = f"LEFT(CAST({file_name} AS BINARY), LENGTH({prefix}))"
    rest = f"SUBSTRING(CAST({file_name} AS BINARY), LENGTH({prefix}) + 1)"
    return [
        (
            f"{workstation} IS NULL OR {workstation} = '' OR LOCATE('/', {workstation}) > 0",
            "WORKSTATION is empty or contains '/'",
        ),
        (
            f"NOT ({head} <=> {prefix})",
            "FILE_NAME does not begin with WORKSTATION followed by '/'",
        ),
        (
            f"{rest} = '' OR LOCATE('/', {rest}) > 0",
            "FILE_NAME is not WORKSTATION/<one file name> (empty, or a further '/')",
        ),
        (f"{size} IS NULL", "SIZE is missing"),
        (f"{content_hash} IS NULL", "HASH is missing"),
        (
            # UNHEX is NULL for anything but hex digits; LOWER changes only A-F here.
            f"LENGTH({content_hash}) <> 64 OR UNHEX({content_hash}) IS NULL "
            f"OR CAST({content_hash} AS BINARY) <> CAST(LOWER({content_hash}) AS BINARY)",
            "HASH is not a SHA-256 in 64 lowercase hex digits",
        ),
        (
            f"NOT (CAST({origin} AS BINARY) <=> CAST('{ORIGIN_WORKSTATION}' AS BINARY))",
            f"HASH_ORIGIN is not '{ORIGIN_WORKSTATION}'",
        ),
        ("zone_rows = 0", "ZONE_ID is not a zone in CONFIG"),
        (
            f"NOT ({col('storage_days')} <=> zone_retention)",
            "STORAGE_DAYS is not the zone's RETENTION_DAYS in CONFIG",
        ),
        (
            # A day of clock skew between a workstation and the database is normal.
            f"{col('recording_date')} > CURDATE() + INTERVAL 1 DAY",
            "RECORDING_DATE is more than a day in the future",
        ),
    ]


def trigger_sql(*, q, video, zone, login) -> str:
    """CREATE TRIGGER for the historical models ``video``, ``zone`` and ``login``."""
    zone_id = "NEW." + q(video._meta.get_field("zone").column)
    checks = []
    for condition, message in _rules(q, video):
        text = REFUSED + message
        if len(text) > 128:
            raise ValueError(f"longer than MESSAGE_TEXT may be: {text}")
        quoted = text.replace("'", "''")
        checks.append(
            f"    IF {condition} THEN\n"
            f"      SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{quoted}';\n"
            f"    END IF;"
        )
    body = "\n".join(checks)
    # USER() is the name this session logged in with (CURRENT_USER() would be the
    # trigger's definer here). Its host part is cut at the last '@': a host never contains
    # one, a quoted user name may.
    login_name = "LEFT(USER(), CHAR_LENGTH(USER()) - CHAR_LENGTH(SUBSTRING_INDEX(USER(), '@', -1)) - 1)"
    return (
        f"CREATE TRIGGER {q(TRIGGER)} BEFORE INSERT ON {q(video._meta.db_table)}\n"
        f"FOR EACH ROW\n"
        f"BEGIN\n"
        f"  DECLARE zone_rows INT DEFAULT 0;\n"
        f"  DECLARE zone_retention INT DEFAULT NULL;\n"
        f"  IF EXISTS (SELECT 1 FROM {q(login._meta.db_table)} "
        f"WHERE CAST({q(login._meta.get_field('user').column)} AS BINARY) = "
        f"CAST({login_name} AS BINARY)) THEN\n"
        # An aggregate always returns one row: no "no data" condition for a missing zone.
        f"    SELECT COUNT(*), MAX({q(zone._meta.get_field('retention_days').column)}) "
        f"INTO zone_rows, zone_retention FROM {q(zone._meta.db_table)} "
        f"WHERE {q(zone._meta.pk.column)} = {zone_id};\n"
        f"{body}\n"
        f"  END IF;\n"
        f"END"
    )


def create_trigger(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "mysql":
        return
    q = connection.ops.quote_name
    sql = trigger_sql(
        q=q,
        video=apps.get_model("storage", "Video"),
        zone=apps.get_model("zones", "Zone"),
        login=apps.get_model("client_agent", "ClientDatabaseLogin"),
    )
    with connection.cursor() as cursor:
        # A run that failed for want of the privilege is simply run again once it is given.
        cursor.execute(f"DROP TRIGGER IF EXISTS {q(TRIGGER)}")
        try:
            cursor.execute(sql)
        except DatabaseError as exc:
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
            if code not in PRIVILEGE_ERRORS:
                raise
            raise ImproperlyConfigured(
                PRIVILEGE_HINT.format(
                    trigger=TRIGGER, database=connection.settings_dict["NAME"], error=exc
                )
            ) from exc


def drop_trigger(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "mysql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS {connection.ops.quote_name(TRIGGER)}")


class Migration(migrations.Migration):
    dependencies = [
        ("client_agent", "0003_client_login"),
        ("storage", "0004_custody"),
        ("zones", "0002_zone_purge_time"),
    ]

    operations = [
        # Not atomic: MySQL commits around CREATE TRIGGER anyway.
        migrations.RunPython(create_trigger, drop_trigger, atomic=False),
    ]
