# ruff: noqa: RUF001 - Russian text, Cyrillic letters on purpose
"""The zone admin, driven as a superuser through Django's test client (Russian by default)."""

import datetime

import pytest
from cryptography.fernet import Fernet
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from storage.models import Video
from tests.factories import make_zone
from tests.zones.conftest import ADD_URL, LIST_URL, change_url, keygen_file, keygen_fingerprint
from zones import selectors, ssh_keys
from zones.admin import ZoneAdmin
from zones.models import Zone

pytestmark = pytest.mark.django_db


def assert_no_private_key(html: str, *private_texts: str) -> None:
    """No private key marker and no line of any key body anywhere in the page."""
    assert "PRIVATE KEY-----" not in html
    for text in private_texts:
        for line in text.strip().splitlines()[1:-1]:
            assert line not in html


def saved_zone(client, data: dict) -> Zone:
    response = client.post(ADD_URL, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return Zone.objects.get(name=data["name"])


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Kursk!"),
        ("name", ""),
        ("name", "a" * 21),
        ("server", "docker5 kursk"),
        ("server", "-bad.example.ru"),
        ("ssh_user", "Root"),
        ("ssh_user", "averylongusername"),
        ("ssh_port", "0"),
        ("ssh_port", "70000"),
        ("path_dst", "srv/video"),
        ("path_dst", "/srv/my video"),
        ("path_dst", '/srv/video",permitopen="x'),
        ("path_dst", "/srv/../etc"),
        ("speed_kbps", "0"),
        ("speed_kbps", "100000"),
        ("speed_kbps", "fast"),
        ("path_src", "~/videos"),
        ("path_src", "/home/oper/../../etc"),
        ("file_extension", ".mp4"),
        ("file_extension", "mpeg4x"),
        ("file_name_pattern", "(unclosed"),
        ("file_name_pattern", r"\d+"),
        ("file_name_pattern", r"(?P<project_id>\w{32})"),  # no session_id
        ("file_name_pattern", r"(?P<sessionid>\d+)"),  # misspelt
        ("retention_days", "0"),
        ("retention_days", "3651"),
        ("public_scheme", "ftp"),
        ("public_address", "not a host"),
        ("public_port", "0"),
        ("public_port", "65536"),
        ("key_action", "dsa"),
        ("key_action", "keep"),  # a new zone has no key to keep
    ],
)
def test_bad_value_is_a_field_error_and_writes_nothing(admin_client, form_data, field, value):
    response = admin_client.post(ADD_URL, {**form_data, field: value})

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Zone.objects.exists()


def test_port_without_address_is_explained(admin_client, form_data):
    response = admin_client.post(ADD_URL, {**form_data, "public_address": ""})
    assert response.status_code == 200
    assert "public_address" in response.context["adminform"].form.errors
    assert not Zone.objects.exists()


def test_duplicate_name_is_a_field_error(admin_client, form_data):
    saved_zone(admin_client, form_data)
    response = admin_client.post(ADD_URL, form_data)
    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors
    assert Zone.objects.count() == 1


@pytest.mark.parametrize(
    ("make_key", "message"),
    [
        (lambda d: (d / "id.pub").read_text(), ssh_keys.MSG_PUBLIC),
        (lambda d: "garbage", ssh_keys.MSG_GARBAGE),
        (lambda d: "", ssh_keys.MSG_EMPTY),
    ],
)
def test_bad_pasted_key_is_a_field_error(admin_client, form_data, tmp_path, make_key, message):
    keygen_file(tmp_path, "id", key_type="ed25519")
    data = {**form_data, "key_action": "paste", "private_key": make_key(tmp_path)}

    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["private_key"] == [str(message)]
    assert not Zone.objects.exists()


def test_encrypted_and_weak_pasted_keys_are_field_errors(admin_client, form_data, tmp_path):
    encrypted = keygen_file(tmp_path, "enc", key_type="ed25519", passphrase="secret words")
    weak = keygen_file(tmp_path, "weak", key_type="rsa", bits=1024, fmt="PEM")
    for path, message in ((encrypted, ssh_keys.MSG_ENCRYPTED), (weak, ssh_keys.MSG_RSA_WEAK)):
        data = {**form_data, "key_action": "paste", "private_key": path.read_text()}
        response = admin_client.post(ADD_URL, data)
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors["private_key"]
        assert errors[0].startswith(str(message).split("%")[0])
        assert_no_private_key(response.content.decode(), path.read_text())
    assert not Zone.objects.exists()


def test_pasted_key_is_not_rendered_back_when_another_field_is_wrong(
    admin_client, form_data, tmp_path
):
    key = keygen_file(tmp_path, "id", key_type="rsa", bits=2048, fmt="PEM").read_text()
    data = {**form_data, "server": "bad host", "key_action": "paste", "private_key": key}

    response = admin_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert "server" in response.context["adminform"].form.errors
    assert_no_private_key(response.content.decode(), key)


def test_a_key_pasted_without_choosing_paste_is_refused(admin_client, form_data, tmp_path):
    key = keygen_file(tmp_path, "id", key_type="ed25519").read_text()
    response = admin_client.post(ADD_URL, {**form_data, "private_key": key})
    assert response.status_code == 200
    assert "private_key" in response.context["adminform"].form.errors
    assert not Zone.objects.exists()


# --- creating and changing ------------------------------------------------------------------


def test_add_page_is_russian_and_defaults_to_generating_ed25519(admin_client):
    response = admin_client.get(ADD_URL)
    html = response.content.decode()

    assert response.status_code == 200
    assert 'lang="ru"' in html
    assert "Сохранить" in html  # Django's own Russian admin strings
    form = response.context["adminform"].form
    assert form["key_action"].value() == "ed25519"
    assert "keep" not in [choice[0] for choice in form.fields["key_action"].choices]
    assert (form["ssh_port"].value(), form["retention_days"].value()) == (22, 90)


def test_generated_key_shows_fingerprint_and_line_but_never_the_key(admin_client, form_data):
    response = admin_client.post(ADD_URL, form_data)

    zone = Zone.objects.get(name="kursk")
    assert response.status_code == 302
    assert response["Location"] == change_url(zone)  # stays on the zone to show the line
    page = admin_client.get(change_url(zone))
    html = page.content.decode()
    assert selectors.zone_key_fingerprint(zone=zone) in html
    assert escape(selectors.zone_authorized_keys_line(zone=zone)) in html
    assert "ED25519, 256" in html
    assert_no_private_key(html, zone.ssh_private_key)
    assert zone.link_secret not in html
    assert page.context["adminform"].form["key_action"].value() == "keep"
    # The stored values are the form's.
    assert (zone.path_dst, zone.speed_kbps, zone.public_port) == ("/srv/opvideo/kursk", 3000, 88)
    assert zone.link_secret


def test_generate_rsa(admin_client, form_data):
    zone = saved_zone(admin_client, {**form_data, "key_action": "rsa"})
    key = ssh_keys.key_load(private_key=zone.ssh_private_key)
    assert (key.algorithm, key.bits) == ("RSA", 4096)


@pytest.mark.parametrize("fmt", ["", "PEM"])
def test_paste_an_existing_key(admin_client, form_data, tmp_path, fmt):
    path = keygen_file(tmp_path, "id", key_type="rsa", bits=3072, fmt=fmt)
    zone = saved_zone(
        admin_client, {**form_data, "key_action": "paste", "private_key": path.read_text()}
    )

    html = admin_client.get(change_url(zone)).content.decode()
    assert keygen_fingerprint(path)[1] in html
    public = " ".join((tmp_path / "id.pub").read_text().split()[:2])
    assert escape(f"{public} opvideo-kursk") in html
    assert_no_private_key(html, path.read_text(), zone.ssh_private_key)


def test_key_regeneration_changes_the_fingerprint_and_keep_does_not(admin_client, form_data):
    zone = saved_zone(admin_client, form_data)
    first = selectors.zone_key_fingerprint(zone=zone)
    edit = {**form_data, "key_action": "keep", "speed_kbps": "1500"}

    response = admin_client.post(change_url(zone), edit)
    assert response.status_code == 302
    zone.refresh_from_db()
    assert zone.speed_kbps == 1500
    assert selectors.zone_key_fingerprint(zone=zone) == first

    response = admin_client.post(change_url(zone), {**edit, "key_action": "ed25519"})
    assert response.status_code == 302
    assert response["Location"] == change_url(zone)
    zone.refresh_from_db()
    second = selectors.zone_key_fingerprint(zone=zone)
    assert second != first
    html = admin_client.get(change_url(zone)).content.decode()
    assert second in html
    assert first not in html


def test_bad_change_writes_nothing(admin_client, form_data):
    zone = saved_zone(admin_client, form_data)
    key_before = zone.ssh_private_key
    data = {**form_data, "key_action": "ed25519", "path_dst": "/srv/a b"}

    response = admin_client.post(change_url(zone), data)

    assert response.status_code == 200
    zone.refresh_from_db()
    assert (zone.path_dst, zone.ssh_private_key) == ("/srv/opvideo/kursk", key_before)


# --- the list, actions, deleting ------------------------------------------------------------


def test_changelist_columns_and_search(admin_client, form_data):
    saved_zone(admin_client, form_data)
    saved_zone(
        admin_client,
        {**form_data, "name": "orel", "server": "docker1.orel.example.ru", "public_port": ""},
    )

    html = admin_client.get(LIST_URL).content.decode()
    assert "docker5.kursk.example.ru:88" in html
    assert "/srv/opvideo/kursk" in html
    found = admin_client.get(LIST_URL, {"q": "orel"}).context["cl"].result_list
    assert [z.name for z in found] == ["orel"]
    found = admin_client.get(LIST_URL, {"q": "docker5"}).context["cl"].result_list
    assert [z.name for z in found] == ["kursk"]


def test_wrong_encryption_key_still_lists_and_lets_the_key_be_replaced(admin_client, form_data):
    zone = saved_zone(admin_client, form_data)
    with override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        listing = admin_client.get(LIST_URL)
        assert listing.status_code == 200
        assert "kursk" in listing.content.decode()

        page = admin_client.get(change_url(zone))
        assert page.status_code == 200
        assert "FIELD_ENCRYPTION_KEYS" in page.content.decode()

        response = admin_client.post(change_url(zone), {**form_data, "key_action": "ed25519"})
        assert response.status_code == 302
        fixed = admin_client.get(change_url(zone)).content.decode()
        assert "opvideo-kursk" in fixed  # the line for the new key


def test_regenerate_link_secret_asks_first_then_regenerates(admin_client, form_data):
    kursk = saved_zone(admin_client, form_data)
    orel = saved_zone(admin_client, {**form_data, "name": "orel"})
    before = {z.pk: z.link_secret for z in (kursk, orel)}
    chosen = {"action": "regenerate_link_secret", "_selected_action": [kursk.pk]}
    admin_client.get(LIST_URL)  # shows (and so clears) the "zone added" messages

    # The action itself only shows what breaks: nothing is changed yet.
    asked = admin_client.post(LIST_URL, chosen)

    assert asked.status_code == 200
    assert asked.templates[0].name == "admin/zones/zone/regenerate_link_secret.html"
    html = asked.content.decode()
    assert {z.pk: Zone.objects.get(pk=z.pk).link_secret for z in (kursk, orel)} == before
    assert "--zone kursk" in html and "orel" not in html
    assert "Эта площадка получит новый секрет ссылок на видео" in html
    assert "Все уже выданные ссылки на видео сразу перестанут работать" in html
    assert "Плееры, открытые в браузерах, перестанут работать" in html
    assert "render_nginx_conf --zone kursk &gt; /etc/nginx/opvideo-kursk.conf" in html
    assert "docker secret create opvideo_link_secret_kursk -" in html
    assert 'value="Да, сгенерировать"' in html and "Отмена" in html
    assert before[kursk.pk] not in html
    assert not list(asked.context["messages"])

    response = admin_client.post(LIST_URL, {**chosen, "confirm": "yes"}, follow=True)

    assert response.status_code == 200
    kursk.refresh_from_db()
    orel.refresh_from_db()
    assert kursk.link_secret not in ("", before[kursk.pk])
    assert orel.link_secret == before[orel.pk]
    last = list(response.context["messages"])[-1]
    assert last.level == messages.SUCCESS
    assert "1" in last.message
    assert kursk.link_secret not in response.content.decode()


def test_confirmation_page_lists_every_chosen_zone(admin_client, form_data):
    kursk = saved_zone(admin_client, form_data)
    orel = saved_zone(admin_client, {**form_data, "name": "orel"})

    html = admin_client.post(
        LIST_URL, {"action": "regenerate_link_secret", "_selected_action": [kursk.pk, orel.pk]}
    ).content.decode()

    assert "Каждая из этих площадок получит новый секрет ссылок на видео" in html
    assert html.count('name="_selected_action"') == 2
    assert "render_nginx_conf --zone orel" in html


def test_saved_zone_page_starts_with_the_line_and_the_bootstrap_command(admin_client, form_data):
    zone = saved_zone(admin_client, form_data)
    line = selectors.zone_authorized_keys_line(zone=zone)

    html = admin_client.get(change_url(zone)).content.decode()

    command = f"./bootstrap.sh --user opvideo --line '{line}'"
    assert selectors.zone_bootstrap_command(zone=zone) == command
    box = html.index('id="zone-setup-title"')
    assert box < html.index('name="name"')  # above the form's first field
    assert html.index(f'id="zone-authorized-keys">{escape(line)}</pre>') > box
    assert f'id="zone-bootstrap-command">{escape(command)}</pre>' in html
    assert html.count('class="button zone-copy"') == 2
    assert "zones/copy.js" in html
    assert "Подготовка сервера хранения" in html
    assert 'id="zone-setup-title"' not in admin_client.get(ADD_URL).content.decode()


def test_deleting_a_zone_with_recordings_is_refused_with_a_page(admin_client, form_data):
    zone = saved_zone(admin_client, form_data)
    Video.objects.create(
        zone=zone,
        session_id="node_0_domain_0_nauss_0_1629126106_172352",
        file_name="node_0_domain_0_nauss_0_1629126106_172352.mp4",
        recording_date=datetime.date(2026, 11, 1),
    )
    delete_url = reverse("admin:zones_zone_delete", args=[zone.pk])

    page = admin_client.get(delete_url)
    assert page.status_code == 200
    html = page.content.decode()
    # templates/admin/delete_confirmation.html: the zone in the accusative, and why not
    assert "Чтобы удалить площадку «kursk», сначала придётся удалить эти защищённые" in html
    (reason,) = page.context["protected"]  # one line per zone, not one per recording
    with translation.override("ru"):
        assert str(Video._meta.verbose_name_plural) in reason
    assert "kursk" in reason
    assert " 1 " in reason
    assert escape(reason) in html
    response = admin_client.post(delete_url, {"post": "yes"})
    assert response.status_code == 200
    assert Zone.objects.filter(pk=zone.pk).exists()

    bulk = admin_client.post(
        LIST_URL, {"action": "delete_selected", "_selected_action": [zone.pk], "post": "yes"}
    )
    assert bulk.status_code == 200
    assert bulk.context["protected"]
    assert Zone.objects.filter(pk=zone.pk).exists()


def test_deleting_a_zone_without_recordings_works(admin_client, form_data):
    zone = saved_zone(admin_client, form_data)
    response = admin_client.post(
        reverse("admin:zones_zone_delete", args=[zone.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Zone.objects.exists()


def test_a_service_refusal_lands_on_the_form_fields(form_data):
    """The form asks the service in clean(); what it refuses shows on the fields it names."""
    form = ZoneAdmin(Zone, admin.site).form(data=form_data)
    assert form.is_valid(), form.errors

    form.service_error_add(
        ValidationError(
            {"name": ["taken"], "ssh_private_key": ["bad key"], "link_secret": ["elsewhere"]}
        )
    )

    assert form.errors["name"] == ["taken"]
    assert form.errors["private_key"] == ["bad key"]
    assert form.non_field_errors() == ["elsewhere"]


def test_the_form_refuses_what_the_service_refuses_before_anything_is_saved(
    admin_client, form_data
):
    """The service's own rule (a pasted key with another choice), through the form."""
    response = admin_client.post(ADD_URL, {**form_data, "private_key": "not a key"})

    assert response.status_code == 200
    assert "private_key" in response.context["adminform"].form.errors
    assert not Zone.objects.exists()


def test_a_race_lost_at_save_is_a_message_and_nothing_is_saved(
    admin_client, form_data, monkeypatch
):
    """Another admin adds the same name between the form's check and the insert."""
    from django.contrib.admin.models import LogEntry

    from zones import admin as zones_admin

    real_create = zones_admin.zone_create

    def create_after_a_rival(**kwargs):
        real_create(**{**kwargs, "private_key": None, "server": "rival.example.ru"})
        return real_create(**kwargs)

    monkeypatch.setattr(zones_admin, "zone_create", create_after_a_rival)
    response = admin_client.post(ADD_URL, form_data, follow=True)

    assert response.redirect_chain == [(ADD_URL, 302)]
    shown = [str(m) for m in response.context["messages"]]
    assert shown == ["Площадка не сохранена. Площадка «kursk» уже существует."], shown
    assert list(Zone.objects.values_list("server", flat=True)) == ["rival.example.ru"]
    assert not LogEntry.objects.exists()


def test_the_pattern_field_shows_the_standard_pattern_escaped(admin_client):
    from zones.file_names import DEFAULT_FILE_NAME_PATTERN

    page = admin_client.get(ADD_URL).content.decode()
    assert f"<code>{escape(DEFAULT_FILE_NAME_PATTERN)}</code>" in page
    assert "(?P<session_id>" not in page  # never raw markup


def test_the_zone_pages_title_the_zone_in_the_right_case(admin_client):
    """Django's own titles ("Изменить %s") would leave «площадка» in the nominative."""
    zone = make_zone(name="kursk")
    pages = {
        ADD_URL: "Добавить площадку",
        change_url(zone): "Изменить площадку",
        LIST_URL: "Выберите площадку для изменения",
    }
    for url, title in pages.items():
        page = admin_client.get(url).content.decode()
        assert f"<h1>{title}</h1>" in page, url
        assert "площадка для" not in page and "Изменить площадка" not in page, url
