"""Per-zone client logins: CLIENT_LOGIN.ZONE_ID, and the model of the view CLIENT_ZONE_KEY.

The view itself is created by the next migration (``0006_client_zone_key_view``): on
MariaDB a schema change is committed at once, so a view that cannot be created (no CREATE
VIEW privilege) must fail in a migration of its own, which runs again cleanly once the
privilege is given.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("client_agent", "0004_client_row_checks"),
        ("zones", "0003_zone_client_key_host_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="clientdatabaselogin",
            name="zone",
            field=models.ForeignKey(
                blank=True,
                db_column="ZONE_ID",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="client_logins",
                to="zones.zone",
                verbose_name="zone",
            ),
        ),
        migrations.CreateModel(
            name="ClientZoneKey",
            fields=[
                (
                    "zone",
                    models.OneToOneField(
                        db_column="ZONE_ID",
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="zones.zone",
                    ),
                ),
                ("sealed_key", models.TextField(db_column="CLIENT_RSA_KEY")),
            ],
            options={
                "db_table": "CLIENT_ZONE_KEY",
                "managed": False,
                "default_permissions": (),
            },
        ),
    ]
