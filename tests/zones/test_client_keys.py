"""A zone's client key (CONFIG.CLIENT_KEY) and its ssh key sealed under it (CLIENT_RSA_KEY):
made with the zone, kept in step with its ssh key, printed for db.conf, covered by rotation."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings

from tests.zones.test_encryption import insert_seed_row, raw, raw_set
from zones import client_keys, services, ssh_keys
from zones.models import Zone
from zones.selectors import SECRET_COLUMNS

pytestmark = pytest.mark.django_db


def opens(zone_id: int, client_key: str) -> str:
    """The ssh key the stored seal gives with ``client_key`` (SealDoesNotOpen if none)."""
    return client_keys.unseal(client_key=client_key, sealed=raw(zone_id, "CLIENT_RSA_KEY"))


def issue(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("zone_client_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_new_zone_has_its_own_client_key_and_its_ssh_key_sealed_under_it(zone_fields):
    zone = services.zone_create(**zone_fields)
    other = services.zone_create(**{**zone_fields, "name": "other"})

    stored = raw(zone.id, "CLIENT_KEY")
    field_key = Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode())
    assert field_key.decrypt(stored.encode()).decode() == zone.client_key  # under the web's keys
    assert opens(zone.id, zone.client_key) == zone.ssh_private_key
    assert zone.client_key != other.client_key
    # Neither the web's key nor another zone's client key opens the seal.
    with pytest.raises(InvalidToken):
        field_key.decrypt(raw(zone.id, "CLIENT_RSA_KEY").encode())
    with pytest.raises(client_keys.SealDoesNotOpen):
        opens(zone.id, other.client_key)


def test_a_changed_ssh_key_is_sealed_again_under_the_same_client_key(zone_fields):
    zone = services.zone_create(**zone_fields)
    client_key = zone.client_key

    services.zone_update(zone=Zone.objects.defer(*SECRET_COLUMNS).get(pk=zone.pk), key_action="rsa")

    fresh = Zone.objects.get(pk=zone.pk)
    assert fresh.client_key == client_key  # the workstations' db.conf stays right
    assert ssh_keys.key_load(private_key=opens(zone.id, client_key)).bits == 4096
    assert opens(zone.id, client_key) == fresh.ssh_private_key


def test_a_lost_client_key_is_replaced_with_the_ssh_key(zone_fields):
    zone = services.zone_create(**zone_fields)
    with override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        deferred = Zone.objects.defer(*SECRET_COLUMNS).get(pk=zone.pk)
        services.zone_update(zone=deferred, key_action="ed25519")
        fresh = Zone.objects.defer("link_secret").get(pk=zone.pk)
        assert fresh.client_key != zone.client_key
        assert opens(zone.id, fresh.client_key) == fresh.ssh_private_key


def test_secret_fields_are_refused_as_plain_values(zone_fields):
    with pytest.raises(TypeError, match="client_key"):
        services.zone_create(client_key=client_keys.client_key_generate(), **zone_fields)
    zone = services.zone_create(**zone_fields)
    with pytest.raises(TypeError, match="client_ssh_key"):
        services.zone_update(zone=zone, client_ssh_key="x")


# --- manage.py zone_client_key --------------------------------------------------------------


def test_the_command_prints_the_zones_key_and_changes_nothing(zone_fields):
    zone = services.zone_create(**zone_fields)
    before = raw(zone.id, "CLIENT_RSA_KEY")

    out, err = issue("--zone", zone.name)

    assert out == zone.client_key  # no newline: piped into a vault or a file as it is
    assert err == ""
    assert raw(zone.id, "CLIENT_RSA_KEY") == before


def test_a_zone_from_before_client_keys_gets_one_on_first_use(zone_fields):
    zone = services.zone_create(**zone_fields)
    raw_set(zone.id, "CLIENT_KEY", "")
    raw_set(zone.id, "CLIENT_RSA_KEY", "")

    out, err = issue("--zone", zone.name)

    assert Zone.objects.get(pk=zone.pk).client_key == out
    assert opens(zone.id, out) == zone.ssh_private_key
    assert "a new client key was issued" in err and "OPVIDEO_ZONE_KEY" in err
    assert issue("--zone", zone.name)[0] == out  # and it stays


def test_a_seal_that_no_longer_matches_the_ssh_key_is_renewed(zone_fields):
    zone = services.zone_create(**zone_fields)
    stale = client_keys.seal(client_key=zone.client_key, private_key=ssh_keys.key_generate())
    raw_set(zone.id, "CLIENT_RSA_KEY", stale)

    out, err = issue("--zone", zone.name)

    assert out == zone.client_key
    assert "sealed again" in err
    assert opens(zone.id, out) == zone.ssh_private_key


def test_new_issues_another_key_and_the_old_one_no_longer_opens_anything(zone_fields):
    zone = services.zone_create(**zone_fields)

    out, err = issue("--zone", zone.name, "--new")

    assert out != zone.client_key
    assert "every workstation of this zone" in err
    assert opens(zone.id, out) == zone.ssh_private_key
    with pytest.raises(client_keys.SealDoesNotOpen):
        opens(zone.id, zone.client_key)


def test_the_command_names_a_missing_zone_and_unreadable_keys(zone_fields):
    with pytest.raises(CommandError, match="no zone named 'nowhere'"):
        issue("--zone", "nowhere")
    zone = services.zone_create(**zone_fields)
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]),
        pytest.raises(CommandError, match="cannot decrypt"),
    ):
        issue("--zone", zone.name)
    assert Zone.objects.get(pk=zone.pk).client_key == zone.client_key  # nothing changed


# --- rotate_field_keys ----------------------------------------------------------------------


def test_rotation_re_encrypts_client_keys_and_keeps_them(zone_fields):
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()
    zone = services.zone_create(**zone_fields)
    before = raw(zone.id, "CLIENT_KEY")

    with override_settings(FIELD_ENCRYPTION_KEYS=[new, old]):
        out = StringIO()
        call_command("rotate_field_keys", stdout=out)

    after = raw(zone.id, "CLIENT_KEY")
    assert after != before
    assert Fernet(new.encode()).decrypt(after.encode()).decode() == zone.client_key
    with pytest.raises(InvalidToken):
        Fernet(old.encode()).decrypt(after.encode())
    assert "CONFIG.CLIENT_KEY: 1 re-encrypted, 0 plaintext encrypted, 0 already current" in (
        out.getvalue()
    )
    # The client key itself, and so every workstation's db.conf, is unchanged.
    with override_settings(FIELD_ENCRYPTION_KEYS=[new]):
        assert Zone.objects.get(pk=zone.pk).client_key == zone.client_key
    assert opens(zone.id, zone.client_key) == zone.ssh_private_key
    assert "client keys: 0 zone(s) without one were given one, 0 sealed ssh key(s) were " in (
        out.getvalue()
    )


def test_rotation_gives_every_zone_a_client_key_and_a_current_seal(tmp_path, zone_fields):
    current = services.zone_create(**zone_fields)
    stale = services.zone_create(**{**zone_fields, "name": "stale"})
    raw_set(stale.id, "CLIENT_RSA_KEY", "")
    legacy_key = ssh_keys.key_generate()
    legacy_id = insert_seed_row(name="legacy", rsa_key=legacy_key)  # the old system's row
    keyless_id = insert_seed_row(name="keyless", rsa_key="")

    dry = StringIO()
    call_command("rotate_field_keys", "--dry-run", stdout=dry)
    assert raw(legacy_id, "CLIENT_KEY") == "" and raw(stale.id, "CLIENT_RSA_KEY") == ""
    assert "client keys: 2 zone(s) without one would be given one, 1 sealed" in dry.getvalue()

    out = StringIO()
    call_command("rotate_field_keys", stdout=out)

    assert (
        "client keys: 2 zone(s) without one were given one, 1 sealed ssh key(s) were renewed, "
        "1 already current"
    ) in out.getvalue()
    assert "zones without an ssh key (nothing to seal; generate one in the admin): keyless" in (
        out.getvalue()
    )
    legacy = Zone.objects.get(pk=legacy_id)
    assert opens(legacy_id, legacy.client_key) == legacy_key
    assert opens(stale.id, stale.client_key) == stale.ssh_private_key
    assert Zone.objects.get(pk=current.pk).client_key == current.client_key
    keyless = Zone.objects.get(pk=keyless_id)
    assert keyless.client_key and raw(keyless_id, "CLIENT_RSA_KEY") == ""
    # A second run has nothing left to do.
    again = StringIO()
    call_command("rotate_field_keys", stdout=again)
    assert "0 zone(s) without one were given one, 0 sealed ssh key(s) were renewed, 4 " in (
        again.getvalue()
    )
