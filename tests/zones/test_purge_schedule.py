"""Each enabled zone has exactly one daily purge entry for beat, kept in step with the zone
from the admin (save, disable, rename, delete) and by ``sync_purge_schedules``."""

import io
import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from tests.factories import make_video
from tests.zones.conftest import ADD_URL, LIST_URL, change_url
from zones.models import Zone
from zones.purge_schedule import PURGE_TASK_NAME, purge_schedule_name

pytestmark = pytest.mark.django_db


def entry(zone: Zone) -> PeriodicTask | None:
    return (
        PeriodicTask.objects.select_related("crontab")
        .filter(name=purge_schedule_name(zone=zone))
        .first()
    )


def save(client, url: str, data: dict) -> Zone:
    response = client.post(url, {**data, "_save": "1"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    return Zone.objects.get(name=data["name"])


def test_saving_an_enabled_zone_creates_its_daily_purge(admin_client, form_data):
    zone = save(admin_client, ADD_URL, form_data)

    task = entry(zone)
    assert task is not None
    assert task.task == PURGE_TASK_NAME == "storage.purge_zone"
    assert json.loads(task.args) == [zone.pk]
    assert task.queue == "zone.kursk"
    assert task.enabled and not task.one_off
    assert task.expire_seconds and task.expire_seconds < 24 * 3600
    crontab = task.crontab
    assert (crontab.minute, crontab.hour) == ("0", "3")
    assert (crontab.day_of_week, crontab.day_of_month, crontab.month_of_year) == ("*", "*", "*")
    assert str(crontab.timezone) == settings.TIME_ZONE
    assert PeriodicTask.objects.filter(task=PURGE_TASK_NAME).count() == 1


def test_the_add_page_offers_the_default_purge_time(admin_client):
    form = admin_client.get(ADD_URL).context["adminform"].form
    assert str(form["purge_time"].value()).startswith("03:00")


def test_changing_time_and_name_updates_the_one_entry(admin_client, form_data):
    zone = save(admin_client, ADD_URL, form_data)
    first_pk = entry(zone).pk

    zone = save(
        admin_client,
        change_url(zone),
        {**form_data, "name": "kursk-2", "purge_time": "04:35", "key_action": "keep"},
    )

    task = entry(zone)
    assert task.pk == first_pk
    assert task.queue == "zone.kursk-2"
    assert (task.crontab.hour, task.crontab.minute) == ("4", "35")
    assert PeriodicTask.objects.filter(task=PURGE_TASK_NAME).count() == 1


def test_disabling_removes_the_entry_and_enabling_brings_it_back(admin_client, form_data):
    zone = save(admin_client, ADD_URL, form_data)
    disabled = {k: v for k, v in form_data.items() if k != "enabled"} | {"key_action": "keep"}

    save(admin_client, change_url(zone), disabled)
    assert entry(zone) is None
    assert "zone.kursk" not in admin_client.get(change_url(zone)).content.decode()

    save(admin_client, change_url(zone), {**form_data, "key_action": "keep"})
    assert entry(zone).queue == "zone.kursk"


def test_a_zone_added_disabled_has_no_entry(admin_client, form_data):
    zone = save(admin_client, ADD_URL, {k: v for k, v in form_data.items() if k != "enabled"})
    assert not zone.enabled
    assert entry(zone) is None


def test_the_zone_page_shows_the_schedule(admin_client, form_data):
    zone = save(admin_client, ADD_URL, {**form_data, "purge_time": "02:05"})
    page = admin_client.get(change_url(zone)).content.decode()
    assert "02:05" in page
    assert "zone.kursk" in page


def test_deleting_a_zone_removes_its_entry(admin_client, form_data):
    zone = save(admin_client, ADD_URL, form_data)

    response = admin_client.post(reverse("admin:zones_zone_delete", args=[zone.pk]), {"post": "1"})

    assert response.status_code == 302
    assert not Zone.objects.filter(pk=zone.pk).exists()
    assert not PeriodicTask.objects.filter(name=purge_schedule_name(zone=zone)).exists()


def test_deleting_zones_in_bulk_removes_their_entries(admin_client, form_data):
    one = save(admin_client, ADD_URL, form_data)
    two = save(admin_client, ADD_URL, {**form_data, "name": "orel"})

    response = admin_client.post(
        LIST_URL,
        {"action": "delete_selected", "_selected_action": [one.pk, two.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Zone.objects.exists()
    assert not PeriodicTask.objects.filter(task=PURGE_TASK_NAME).exists()


def test_a_refused_delete_keeps_the_entry(admin_client, form_data):
    zone = save(admin_client, ADD_URL, form_data)
    make_video(zone=zone)

    admin_client.post(reverse("admin:zones_zone_delete", args=[zone.pk]), {"post": "yes"})

    assert Zone.objects.filter(pk=zone.pk).exists()
    assert entry(zone) is not None


def test_a_rejected_change_leaves_the_entry_as_it_was(admin_client, form_data):
    zone = save(admin_client, ADD_URL, form_data)

    response = admin_client.post(
        change_url(zone),
        {**form_data, "purge_time": "05:00", "speed_kbps": "0", "key_action": "keep"},
    )

    assert response.status_code == 200
    assert (entry(zone).crontab.hour, entry(zone).crontab.minute) == ("3", "0")


def test_sync_command_repairs_missing_stale_and_orphaned_entries(admin_client, form_data):
    kursk = save(admin_client, ADD_URL, form_data)
    orel = save(admin_client, ADD_URL, {**form_data, "name": "orel"})
    # As after adopting a database: rows changed behind the services' back.
    entry(kursk).delete()
    Zone.objects.filter(pk=orel.pk).update(enabled=False)
    ghost = PeriodicTask.objects.create(
        name="opvideo.purge_zone.999999",
        task=PURGE_TASK_NAME,
        crontab=CrontabSchedule.objects.first(),
    )

    call_command("sync_purge_schedules", stdout=(out := io.StringIO()))

    assert entry(kursk).queue == "zone.kursk"
    assert entry(orel) is None
    assert not PeriodicTask.objects.filter(pk=ghost.pk).exists()
    assert "kursk: created" in out.getvalue()
    assert "orel: removed (disabled)" in out.getvalue()
    assert "removed (no such zone)" in out.getvalue()

    call_command("sync_purge_schedules", stdout=(again := io.StringIO()))
    assert "kursk: unchanged" in again.getvalue()
