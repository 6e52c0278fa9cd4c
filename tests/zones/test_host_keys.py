# ruff: noqa: RUF001 - Russian text, Cyrillic letters on purpose
"""Pinning a zone's storage server host keys (issue 13, finding 3): what may be pasted, what
ssh-keyscan fetches from a real sshd (the fingerprints must be the ones ssh-keygen -lf prints
on the server), the admin's confirm step, the move check and the management command."""

from __future__ import annotations

import io
import subprocess

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils.html import escape

from tests.factories import make_zone
from tests.helpers import free_port
from tests.services import sshd
from tests.zones.conftest import (
    ADD_URL,
    change_url,
    keygen_file,
    keygen_fingerprint,
    ssh_keygen,
)
from zones import host_keys
from zones.models import Zone
from zones.services import zone_update


@pytest.fixture
def server(tmp_path):
    """A real sshd on a loopback port (a storage server as ssh-keyscan sees it)."""
    with sshd.confined_sshd(workdir=tmp_path / "sshd") as running:
        yield running


def public(path) -> str:
    return (path.parent / f"{path.name}.pub").read_text()


# --- what may be pasted ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_type", "bits"), [("ed25519", 0), ("ecdsa", 256), ("ecdsa", 521), ("rsa", 3072)]
)
def test_pub_lines_parse_with_ssh_keygens_fingerprint(tmp_path, key_type, bits):
    path = keygen_file(tmp_path, "host", key_type=key_type, bits=bits)
    expected_bits, fingerprint, algorithm = keygen_fingerprint(path.with_suffix(".pub"))

    (key,) = host_keys.host_keys_parse(public(path))

    assert (key.bits, key.fingerprint, key.algorithm) == (expected_bits, fingerprint, algorithm)
    assert key.line() == " ".join(public(path).split()[:2])


def test_known_hosts_lines_plain_hashed_and_keyscan_output_are_accepted(tmp_path):
    ed = keygen_file(tmp_path, "ed", key_type="ed25519")
    rsa = keygen_file(tmp_path, "rsa", key_type="rsa", bits=2048)
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(
        f"[storage.kursk.example.ru]:2222 {public(ed)}storage.kursk.example.ru {public(rsa)}"
    )
    ssh_keygen("-H", "-f", str(known_hosts))  # hashed host names, as Debian's ssh writes
    hashed = known_hosts.read_text()
    assert hashed.startswith("|1|")
    pasted = (
        "# storage.kursk.example.ru:22 SSH-2.0-OpenSSH_9.2p1\r\n\n"
        + hashed.replace("\n", "\r\n")
        + public(ed)  # the same key twice: kept once
    )

    keys = host_keys.host_keys_parse(pasted)

    assert [k.fingerprint for k in keys] == [
        keygen_fingerprint(ed.with_suffix(".pub"))[1],
        keygen_fingerprint(rsa.with_suffix(".pub"))[1],
    ]
    assert host_keys.host_keys_normalise(pasted) == "".join(
        " ".join(public(p).split()[:2]) + "\n" for p in (ed, rsa)
    )


def test_private_keys_and_garbage_are_refused_with_what_to_paste(tmp_path):
    ed = keygen_file(tmp_path, "ed", key_type="ed25519")
    pem = keygen_file(tmp_path, "pem", key_type="rsa", bits=2048, fmt="PEM")
    weak = keygen_file(tmp_path, "weak", key_type="rsa", bits=1024)
    ca = keygen_file(tmp_path, "ca", key_type="ed25519")
    ssh_keygen("-s", str(ca), "-I", "host", "-h", "-n", "storage", str(ed.with_suffix(".pub")))
    certificate = (tmp_path / "ed-cert.pub").read_text()
    ed_type, ed_body = public(ed).split()[:2]
    rsa_body = public(pem).split()[1]
    cases = [
        (ed.read_text(), "private"),
        (pem.read_text(), "private"),
        ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n", "private"),
        (public(ed) + ed.read_text(), "private"),  # a private key anywhere refuses it all
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("hello world", "invalid"),
        (f"@cert-authority *.example.ru {public(ca)}", "marker"),
        (f"@revoked * {public(ed)}", "marker"),
        (certificate, "certificate"),
        (public(weak), "too_weak"),
        (f"{ed_type} {ed_body[:-8]}", "damaged"),  # cut off
        (f"{ed_type} {ed_body[:20]}!!{ed_body[22:]}", "damaged"),
        (f"ssh-ed25519 {rsa_body}", "damaged"),  # an RSA key labelled ed25519
        ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "dsa"),
        ("sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5", "unsupported"),
        ("ssh-ed25519 AAAA\n" * 2 + "x" * host_keys.MAX_TEXT_LENGTH, "too_long"),
    ]
    for text, code in cases:
        with pytest.raises(ValidationError) as caught:
            host_keys.host_keys_parse(text)
        assert caught.value.code == code, (text[:40], caught.value)


def test_eleven_keys_are_not_one_servers(tmp_path):
    lines = [public(keygen_file(tmp_path, f"k{n}", key_type="ed25519")) for n in range(11)]
    with pytest.raises(ValidationError) as caught:
        host_keys.host_keys_parse("".join(lines))
    assert caught.value.code == "too_many"


@pytest.mark.django_db
def test_the_model_stores_one_form_and_refuses_what_is_not_host_keys(tmp_path):
    ed = keygen_file(tmp_path, "ed", key_type="ed25519")
    zone = make_zone(host_keys=f"storage.example.ru {public(ed)}")
    assert zone.host_keys == " ".join(public(ed).split()[:2]) + "\n"
    with pytest.raises(ValidationError) as caught:
        zone_update(zone=zone, host_keys=ed.read_text())
    assert list(caught.value.message_dict) == ["host_keys"]
    zone.refresh_from_db()
    assert zone.host_keys == " ".join(public(ed).split()[:2]) + "\n"


# --- fetching -------------------------------------------------------------------------------


def test_keyscan_of_a_real_sshd_shows_what_ssh_keygen_prints_on_the_server(server):
    on_the_server = keygen_fingerprint(server.workdir / "host_key.pub")

    (key,) = host_keys.host_keys_fetch(server="127.0.0.1", port=server.port)

    assert (key.bits, key.fingerprint, key.algorithm) == on_the_server
    assert key.line() == " ".join(server.host_key.split()[:2])


def test_keyscan_of_nothing_is_a_clear_error():
    with pytest.raises(ValidationError) as caught:
        host_keys.host_keys_fetch(server="127.0.0.1", port=free_port(), timeout=3)
    assert caught.value.code == "unreachable"
    assert "Не удалось получить ключи хоста 127.0.0.1 (порт" in caught.value.messages[0]
    with pytest.raises(ValidationError):
        host_keys.host_keys_fetch(server="-oProxyCommand=touch /tmp/x", port=22)


# --- the admin ------------------------------------------------------------------------------


def fetch_form(form_data, server) -> dict:
    return {
        **form_data,
        "server": "127.0.0.1",
        "ssh_port": str(server.port),
        "host_key_action": "fetch",
    }


@pytest.mark.django_db
def test_admin_fetch_shows_the_fingerprint_then_pins_what_was_confirmed(
    admin_client, form_data, server
):
    _bits, fingerprint, _algorithm = keygen_fingerprint(server.workdir / "host_key.pub")
    data = fetch_form(form_data, server)

    first = admin_client.post(ADD_URL, data)

    assert first.status_code == 200
    assert not Zone.objects.exists()  # nothing is pinned, nor saved, before the confirmation
    form = first.context["adminform"].form
    assert list(form.errors) == ["host_keys_confirm"]
    page = first.content.decode()
    assert fingerprint in page
    assert "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub" in page
    assert "Отпечатки совпадают" in page
    shown = form.data["host_keys_shown"]
    assert escape(shown.strip()) in page  # carried in the hidden field

    # A confirmation of other keys than those shown is not one.
    forged = admin_client.post(
        ADD_URL, {**data, "host_keys_confirm": "on", "host_keys_shown": public_of_another()}
    )
    assert forged.status_code == 200
    assert not Zone.objects.exists()

    second = admin_client.post(
        ADD_URL, {**data, "host_keys_confirm": "on", "host_keys_shown": shown}
    )

    assert second.status_code == 302, second.context["adminform"].form.errors
    zone = Zone.objects.get(name=form_data["name"])
    assert zone.host_keys == " ".join(server.host_key.split()[:2]) + "\n"
    page = admin_client.get(change_url(zone)).content.decode()
    assert fingerprint in page
    assert "Закреплённые ключи хоста" in page


def public_of_another() -> str:
    from tests.factories import PLACEHOLDER_HOST_KEY

    return PLACEHOLDER_HOST_KEY + "\n"


@pytest.mark.django_db
def test_admin_fetch_from_an_unreachable_server_says_so(admin_client, form_data):
    data = {**form_data, "server": "127.0.0.1", "ssh_port": str(free_port())}

    response = admin_client.post(ADD_URL, {**data, "host_key_action": "fetch"})

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["host_key_action"]
    assert "Не удалось получить ключи хоста 127.0.0.1" in errors[0]
    assert not Zone.objects.exists()


@pytest.mark.django_db
def test_admin_paste_pins_a_pub_file(admin_client, form_data, tmp_path):
    ed = keygen_file(tmp_path, "ssh_host_ed25519_key", key_type="ed25519")
    data = {**form_data, "host_key_action": "paste", "host_keys_pasted": public(ed)}

    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 302
    zone = Zone.objects.get(name=form_data["name"])
    assert zone.host_keys == " ".join(public(ed).split()[:2]) + "\n"
    shown = admin_client.get(change_url(zone)).content.decode()
    assert keygen_fingerprint(ed.with_suffix(".pub"))[1] in shown


@pytest.mark.django_db
def test_admin_paste_of_a_private_key_is_refused_and_not_shown_back(
    admin_client, form_data, tmp_path
):
    ed = keygen_file(tmp_path, "ssh_host_ed25519_key", key_type="ed25519")
    data = {**form_data, "host_key_action": "paste", "host_keys_pasted": ed.read_text()}

    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["host_keys_pasted"]
    assert errors == [
        "Это закрытый ключ: он не должен покидать сервер. Вставьте открытый ключ хоста — "
        "содержимое /etc/ssh/ssh_host_ed25519_key.pub на сервере хранения."
    ]
    page = response.content.decode()
    for line in ed.read_text().strip().splitlines()[1:-1]:
        assert line not in page
    assert not Zone.objects.exists()


@pytest.mark.django_db
def test_admin_paste_of_garbage_names_the_line(admin_client, form_data):
    data = {**form_data, "host_key_action": "paste", "host_keys_pasted": "\nнe ключ\n"}

    response = admin_client.post(ADD_URL, data)

    errors = response.context["adminform"].form.errors["host_keys_pasted"]
    assert errors[0].startswith("Строка 2 — не строка known_hosts и не открытый ключ (.pub)")
    assert not Zone.objects.exists()


@pytest.mark.django_db
def test_admin_a_new_zone_without_keys_warns_that_nothing_is_sent(admin_client, form_data):
    response = admin_client.post(ADD_URL, {**form_data, "host_key_action": "clear"}, follow=True)

    zone = Zone.objects.get(name=form_data["name"])
    assert zone.host_keys == ""
    page = response.content.decode()
    assert "Ключ хоста не закреплён: рабочие места ничего не отправляют" in page


@pytest.mark.django_db
def test_admin_moving_a_zone_asks_for_the_new_servers_keys(admin_client, form_data, tmp_path):
    ed = keygen_file(tmp_path, "ed", key_type="ed25519")
    pinned = " ".join(public(ed).split()[:2]) + "\n"
    saved = admin_client.post(
        ADD_URL, {**form_data, "host_key_action": "paste", "host_keys_pasted": public(ed)}
    )
    assert saved.status_code == 302
    zone = Zone.objects.get(name=form_data["name"])
    change = {**form_data, "key_action": "keep", "host_key_action": "keep"}

    for moved in ({"server": "docker6.kursk.example.ru"}, {"ssh_port": "2222"}):
        response = admin_client.post(change_url(zone), {**change, **moved})

        assert response.status_code == 200
        errors = response.context["adminform"].form.errors["host_key_action"]
        assert errors == [
            "Закреплённые ключи хоста принадлежат серверу docker5.kursk.example.ru, порт 22. "
            "После смены сервера или порта получите или вставьте ключи нового сервера "
            "(или уберите закреплённые ключи)."
        ]
        zone.refresh_from_db()
        assert (zone.server, zone.ssh_port, zone.host_keys) == (
            "docker5.kursk.example.ru",
            22,
            pinned,
        )

    # Other changes keep the keys; removing them while moving is allowed.
    assert admin_client.post(change_url(zone), {**change, "speed_kbps": "500"}).status_code == 302
    zone.refresh_from_db()
    assert zone.host_keys == pinned
    moved = {**change, "server": "docker6.kursk.example.ru", "host_key_action": "clear"}
    assert admin_client.post(change_url(zone), moved).status_code == 302
    zone.refresh_from_db()
    assert (zone.server, zone.host_keys) == ("docker6.kursk.example.ru", "")


@pytest.mark.django_db
def test_the_service_refuses_a_move_that_keeps_the_old_servers_keys():
    zone = make_zone()
    with pytest.raises(ValidationError) as caught:
        zone_update(zone=Zone.objects.get(pk=zone.pk), ssh_port=2222)
    assert list(caught.value.message_dict) == ["host_keys"]
    assert Zone.objects.get(pk=zone.pk).ssh_port == 22
    zone_update(zone=Zone.objects.get(pk=zone.pk), ssh_port=2222, host_keys="")
    assert Zone.objects.get(pk=zone.pk).ssh_port == 2222


# --- the management command -----------------------------------------------------------------


def command(*args: str) -> str:
    out = io.StringIO()
    call_command("zone_host_keys", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_command_fetches_with_yes_and_refuses_to_pin_unconfirmed(server, monkeypatch):
    zone = make_zone(server="127.0.0.1", ssh_port=server.port, host_keys="")
    fingerprint = keygen_fingerprint(server.workdir / "host_key.pub")[1]
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # not a terminal

    with pytest.raises(CommandError, match="with --yes"):
        command("--zone", zone.name, "--fetch")
    assert Zone.objects.get(pk=zone.pk).host_keys == ""

    out = command("--zone", zone.name, "--fetch", "--yes")

    assert fingerprint in out
    assert Zone.objects.get(pk=zone.pk).host_keys.split() == server.host_key.split()[:2]
    assert fingerprint in command("--zone", zone.name)


@pytest.mark.django_db
def test_command_pins_a_file_and_refuses_a_private_key(tmp_path):
    zone = make_zone(host_keys="")
    ed = keygen_file(tmp_path, "ssh_host_ed25519_key", key_type="ed25519")

    out = command("--zone", zone.name, "--file", str(ed.with_suffix(".pub")))

    assert keygen_fingerprint(ed.with_suffix(".pub"))[1] in out
    with pytest.raises(CommandError, match="Это закрытый ключ"):
        command("--zone", zone.name, "--file", str(ed))
    assert Zone.objects.get(pk=zone.pk).host_keys.split() == public(ed).split()[:2]
    assert "no host key pinned" in command("--zone", zone.name, "--clear")
    assert Zone.objects.get(pk=zone.pk).host_keys == ""


def test_ssh_keyscan_takes_the_end_of_options_marker_the_fetch_passes():
    result = subprocess.run(
        ["ssh-keyscan", "-T", "1", "-p", str(free_port()), "--", "127.0.0.1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "usage" not in result.stderr.lower(), result.stderr


@pytest.mark.django_db
def test_admin_unusable_stored_keys_are_named_and_can_be_replaced(
    admin_client, form_data, tmp_path
):
    saved = admin_client.post(ADD_URL, {**form_data, "host_key_action": "clear"})
    assert saved.status_code == 302
    zone = Zone.objects.get(name=form_data["name"])
    Zone.objects.filter(pk=zone.pk).update(host_keys="written by hand\n")
    change = {**form_data, "key_action": "keep"}

    page = admin_client.get(change_url(zone)).content.decode()
    other_change = admin_client.post(change_url(zone), {**change, "speed_kbps": "500"})

    assert "Сохранённые ключи хоста непригодны: Строка 1" in page
    assert other_change.status_code == 302  # the rest of the zone stays editable
    assert Zone.objects.get(pk=zone.pk).speed_kbps == 500
    ed = keygen_file(tmp_path, "ed", key_type="ed25519")
    fixed = admin_client.post(
        change_url(zone), {**change, "host_key_action": "paste", "host_keys_pasted": public(ed)}
    )
    assert fixed.status_code == 302
    zone.refresh_from_db()
    assert zone.host_keys.split() == public(ed).split()[:2]
