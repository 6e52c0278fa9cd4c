"""Secrets at rest in CONFIG, read back raw, and rotation of FIELD_ENCRYPTION_KEYS."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from tests.zones.conftest import keygen_file
from zones import key_rotation, services, ssh_keys
from zones.fields import FieldDecryptionError
from zones.models import Zone
from zones.selectors import SECRET_COLUMNS

pytestmark = pytest.mark.django_db


def raw(zone_id: int, column: str):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT `{column}` FROM `CONFIG` WHERE id = %s", [zone_id])  # noqa: S608
        return cursor.fetchone()[0]


def raw_set(zone_id: int, column: str, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE `CONFIG` SET `{column}` = %s WHERE id = %s", [value, zone_id])  # noqa: S608


def fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def insert_seed_row(*, name: str, rsa_key: str) -> int:
    """An INSERT exactly as the old README writes it: only the seed's columns."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO CONFIG (ZONE, SERVER, USER, RSA_KEY, SPEED, PATH_SRC, PATH_DST, "
            "TYPE_VIDEOFILE, PUBLIC_ADDRESS, PUBLIC_PORT) "
            "VALUES (%s, 'docker5.zone-test.grancall.ru', 'opvideo', %s, 3000, "
            "'/home/oper/.videos/', '/srv/video', 'mp4', 'docker5.zone-test.grancall.ru', 88)",
            [name, rsa_key],
        )
        return cursor.lastrowid


# --- at rest --------------------------------------------------------------------------------


def test_private_key_and_link_secret_are_encrypted_in_the_column(zone_fields):
    zone = services.zone_create(**zone_fields)

    stored = raw(zone.id, "RSA_KEY")
    assert "PRIVATE KEY" not in stored
    assert "BEGIN" not in stored
    assert fernet(settings.FIELD_ENCRYPTION_KEYS[0]).decrypt(stored.encode()).decode() == (
        zone.ssh_private_key
    )
    secret = raw(zone.id, "LINK_SECRET")
    assert secret != zone.link_secret
    assert fernet(settings.FIELD_ENCRYPTION_KEYS[0]).decrypt(secret.encode()).decode() == (
        zone.link_secret
    )
    # And the ORM gives the key back, usable.
    assert ssh_keys.key_load(private_key=Zone.objects.get(pk=zone.pk).ssh_private_key)


def test_wrong_key_raises_and_never_returns_ciphertext(zone_fields):
    zone = services.zone_create(**zone_fields)
    with override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        with pytest.raises(FieldDecryptionError, match=r"CONFIG\.RSA_KEY"):
            Zone.objects.get(pk=zone.pk)
        with pytest.raises(FieldDecryptionError):
            Zone.objects.values_list("link_secret", flat=True).get(pk=zone.pk)
        # The columns the admin list needs still load without the secrets.
        assert Zone.objects.defer(*SECRET_COLUMNS).get(pk=zone.pk).name == zone.name


def test_raw_seed_insert_gets_the_database_defaults():
    zone_id = insert_seed_row(name="zone-test", rsa_key="-----BEGIN RSA PRIVATE KEY-----\nx\n")
    zone = Zone.objects.get(pk=zone_id)

    assert zone.enabled is True
    assert zone.ssh_port == 22
    assert zone.public_scheme == "http"
    assert zone.retention_days == 90
    assert zone.link_secret == ""
    assert zone.file_name_pattern == ""
    assert abs((timezone.now() - zone.created_at).total_seconds()) < 300
    # A legacy plaintext key is passed through as it is until rotation encrypts it.
    assert zone.ssh_private_key.startswith("-----BEGIN RSA PRIVATE KEY-----")


# --- rotation -------------------------------------------------------------------------------


def test_rotation_moves_every_value_to_the_new_key(zone_fields):
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()
    zone = services.zone_create(**zone_fields)
    before = raw(zone.id, "RSA_KEY")

    with override_settings(FIELD_ENCRYPTION_KEYS=[new, old]):
        summary = key_rotation.field_keys_rotate()

    after = raw(zone.id, "RSA_KEY")
    assert after != before
    assert fernet(new).decrypt(after.encode()).decode() == zone.ssh_private_key
    with pytest.raises(InvalidToken):
        fernet(old).decrypt(after.encode())
    assert fernet(new).decrypt(raw(zone.id, "LINK_SECRET").encode()).decode() == zone.link_secret
    columns = {(c.table, c.column): c for c in summary.columns}
    assert columns["CONFIG", "RSA_KEY"].rotated == 1
    assert columns["CONFIG", "LINK_SECRET"].rotated == 1
    # The new key alone now reads the zone.
    with override_settings(FIELD_ENCRYPTION_KEYS=[new]):
        again = Zone.objects.get(pk=zone.pk)
        assert (again.ssh_private_key, again.link_secret) == (
            zone.ssh_private_key,
            zone.link_secret,
        )
        # A second run finds nothing to do and writes nothing.
        second = key_rotation.field_keys_rotate()
    assert second.changed == 0
    assert raw(zone.id, "RSA_KEY") == after


def test_rotation_encrypts_legacy_plaintext(tmp_path):
    legacy = keygen_file(tmp_path, "legacy", key_type="rsa", bits=2048, fmt="PEM").read_text()
    zone_id = insert_seed_row(name="legacy", rsa_key=legacy)

    summary = key_rotation.field_keys_rotate()

    stored = raw(zone_id, "RSA_KEY")
    assert "PRIVATE KEY" not in stored
    assert fernet(settings.FIELD_ENCRYPTION_KEYS[0]).decrypt(stored.encode()).decode() == legacy
    assert Zone.objects.get(pk=zone_id).ssh_private_key == legacy
    rsa_column = next(c for c in summary.columns if c.column == "RSA_KEY")
    assert rsa_column.encrypted == 1
    # The empty link secret of a seed row stays empty (nothing to encrypt).
    assert raw(zone_id, "LINK_SECRET") == ""


def test_dry_run_writes_nothing(tmp_path, zone_fields):
    zone = services.zone_create(**zone_fields)
    legacy_id = insert_seed_row(name="legacy", rsa_key="-----BEGIN OPENSSH PRIVATE KEY-----\n")
    before = (raw(zone.id, "RSA_KEY"), raw(legacy_id, "RSA_KEY"))
    new = Fernet.generate_key().decode()

    with override_settings(FIELD_ENCRYPTION_KEYS=[new, settings.FIELD_ENCRYPTION_KEYS[0]]):
        out = StringIO()
        call_command("rotate_field_keys", "--dry-run", stdout=out)

    assert (raw(zone.id, "RSA_KEY"), raw(legacy_id, "RSA_KEY")) == before
    assert "CONFIG.RSA_KEY: 1 re-encrypted, 1 plaintext encrypted, 0 already current" in (
        out.getvalue()
    )
    # RSA_KEY twice, LINK_SECRET and CLIENT_KEY of the zone made by zone_create.
    assert "would change 4 value(s)" in out.getvalue()


def test_undecryptable_value_aborts_rotation_and_changes_nothing(zone_fields):
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    good = services.zone_create(**zone_fields)
    lost = services.zone_create(**{**zone_fields, "name": "lost"})
    legacy_id = insert_seed_row(name="legacy", rsa_key="-----BEGIN RSA PRIVATE KEY-----\n")
    # Encrypted under a key nobody configured any more.
    raw_set(lost.id, "RSA_KEY", Fernet(Fernet.generate_key()).encrypt(b"lost").decode())
    before = {
        (zone_id, column): raw(zone_id, column)
        for zone_id in (good.id, lost.id, legacy_id)
        for column in ("RSA_KEY", "LINK_SECRET")
    }
    new = Fernet.generate_key().decode()

    with override_settings(FIELD_ENCRYPTION_KEYS=[new, old]):
        lost_value = rf"CONFIG\.RSA_KEY id={lost.id}"
        with pytest.raises(key_rotation.FieldKeyRotationError, match=lost_value):
            key_rotation.field_keys_rotate()
        with pytest.raises(CommandError, match="nothing was changed"):
            call_command("rotate_field_keys", stdout=StringIO())

    assert {key: raw(*key) for key in before} == before


def test_rotation_command_prints_the_summary(zone_fields):
    services.zone_create(**zone_fields)
    out = StringIO()
    call_command("rotate_field_keys", stdout=out)
    assert "CONFIG.RSA_KEY: 0 re-encrypted, 0 plaintext encrypted, 1 already current" in (
        out.getvalue()
    )
    assert "changed 0 value(s)" in out.getvalue()


def test_rotation_without_keys_is_a_clear_command_error():
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[]),
        pytest.raises(CommandError, match="FIELD_ENCRYPTION_KEYS is empty"),
    ):
        call_command("rotate_field_keys", stdout=StringIO())


# --- services around the secrets ------------------------------------------------------------


def test_zone_create_always_sets_a_random_link_secret(zone_fields):
    first = services.zone_create(**zone_fields)
    second = services.zone_create(**{**zone_fields, "name": "second"})
    assert len(first.link_secret) >= 43
    assert first.link_secret != second.link_secret


def test_zone_create_refuses_bad_input_and_writes_nothing(zone_fields):
    with pytest.raises(ValidationError) as info:
        services.zone_create(**{**zone_fields, "path_dst": "/srv/my videos"})
    assert "path_dst" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        services.zone_create(private_key="not a key", **zone_fields)
    assert info.value.message_dict["ssh_private_key"] == [str(ssh_keys.MSG_GARBAGE)]
    with pytest.raises(TypeError):
        services.zone_create(link_secret="chosen", **zone_fields)
    assert not Zone.objects.exists()


def test_zone_update_key_actions(tmp_path, zone_fields):
    zone = services.zone_create(**zone_fields)
    first = ssh_keys.key_load(private_key=zone.ssh_private_key)

    services.zone_update(zone=zone, key_action="keep", speed_kbps=500)
    zone.refresh_from_db()
    assert zone.speed_kbps == 500
    assert ssh_keys.key_load(private_key=zone.ssh_private_key).fingerprint == first.fingerprint

    services.zone_update(zone=zone, key_action="rsa")
    zone.refresh_from_db()
    assert ssh_keys.key_load(private_key=zone.ssh_private_key).bits == 4096

    pasted = keygen_file(tmp_path, "pasted", key_type="ed25519")
    services.zone_update(zone=zone, key_action="paste", private_key=pasted.read_text())
    zone.refresh_from_db()
    assert ssh_keys.key_load(private_key=zone.ssh_private_key).public_line() == " ".join(
        (tmp_path / "pasted.pub").read_text().split()[:2]
    )

    with pytest.raises(ValidationError):
        services.zone_update(zone=zone, key_action="ed25519", private_key=pasted.read_text())
    with pytest.raises(ValidationError):
        services.zone_update(zone=zone, key_action="paste", private_key="")


def test_zone_update_with_secrets_deferred_and_a_wrong_key_can_replace_the_key(zone_fields):
    zone = services.zone_create(**zone_fields)
    with override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        deferred = Zone.objects.defer(*SECRET_COLUMNS).get(pk=zone.pk)
        services.zone_update(zone=deferred, key_action="ed25519", retention_days=30)
        fresh = Zone.objects.defer("link_secret").get(pk=zone.pk)
        assert fresh.retention_days == 30
        assert ssh_keys.key_load(private_key=fresh.ssh_private_key)


def test_link_secret_regenerate(zone_fields):
    zone = services.zone_create(**zone_fields)
    before = zone.link_secret
    services.zone_link_secret_regenerate(zone=zone)
    assert Zone.objects.get(pk=zone.pk).link_secret not in ("", before)
