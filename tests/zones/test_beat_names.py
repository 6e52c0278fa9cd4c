"""The zones' beat entries are named after the zone in Russian, follow a rename, and leave no
schedule row behind that nothing uses; entries of the older naming («opvideo.purge_zone.2»)
are renamed by ``migrate`` and by ``sync_purge_schedules``. Real MariaDB, real admin posts."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from tests.zones.conftest import ADD_URL, change_url
from zones.fixity_schedule import FIXITY_TASK_NAME
from zones.media_schedule import MEDIA_TASK_NAME
from zones.models import Zone
from zones.purge_schedule import PURGE_TASK_NAME

pytestmark = pytest.mark.django_db

KURSK_NAMES = {
    "Очистка хранилища: kursk",
    "Проверка целостности: kursk",
    "Чтение записей: kursk",
    "Снимок хранилища: kursk",
}


def save(client, url: str, data: dict) -> Zone:
    response = client.post(url, {**data, "_save": "1"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    return Zone.objects.get(name=data["name"])


def names() -> set[str]:
    return set(PeriodicTask.objects.values_list("name", flat=True))


def unused_crontabs() -> list:
    return list(CrontabSchedule.objects.filter(periodictask__isnull=True))


def unused_intervals() -> list:
    return list(IntervalSchedule.objects.filter(periodictask__isnull=True))


def test_entries_are_named_after_the_zone_in_russian(admin_client, form_data):
    # The admin speaks English here: the names are still in LANGUAGE_CODE, one key each.
    admin_client.cookies["django_language"] = "en"
    save(admin_client, ADD_URL, form_data)
    assert names() == KURSK_NAMES
    by_name = dict(PeriodicTask.objects.values_list("name", "task"))
    assert by_name["Очистка хранилища: kursk"] == PURGE_TASK_NAME
    assert by_name["Проверка целостности: kursk"] == FIXITY_TASK_NAME
    assert by_name["Чтение записей: kursk"] == MEDIA_TASK_NAME
    # What each is, in Russian too (every kind's description is in the catalogue).
    for description in PeriodicTask.objects.values_list("description", flat=True):
        assert "площадки kursk" in description and "zone.kursk" in description, description
        assert "Managed" not in description, description


def test_changing_the_purge_time_leaves_one_crontab_and_no_orphan(admin_client, form_data):
    zone = save(admin_client, ADD_URL, form_data)
    before = CrontabSchedule.objects.get(periodictask__name="Очистка хранилища: kursk")

    save(admin_client, change_url(zone), {**form_data, "purge_time": "04:35", "key_action": "keep"})
    save(admin_client, change_url(zone), {**form_data, "purge_time": "05:10", "key_action": "keep"})

    task = PeriodicTask.objects.get(name="Очистка хранилища: kursk")
    assert (task.crontab.hour, task.crontab.minute) == ("5", "10")
    assert CrontabSchedule.objects.count() == 1
    assert not CrontabSchedule.objects.filter(pk=before.pk).exists()
    assert unused_crontabs() == []


def test_a_crontab_another_task_uses_is_kept(admin_client, form_data):
    zone = save(admin_client, ADD_URL, form_data)
    shared = PeriodicTask.objects.get(name="Очистка хранилища: kursk").crontab
    # As the directory sync from CELERY_BEAT_SCHEDULE would, at the same time of day.
    PeriodicTask.objects.create(name="opvideo: directory sync", task="x", crontab=shared)

    save(admin_client, change_url(zone), {**form_data, "purge_time": "04:35", "key_action": "keep"})

    assert CrontabSchedule.objects.filter(pk=shared.pk).exists()
    assert PeriodicTask.objects.get(name="opvideo: directory sync").crontab_id == shared.pk


def test_two_zones_share_a_time_and_one_leaving_it_keeps_it(admin_client, form_data):
    kursk = save(admin_client, ADD_URL, form_data)
    save(admin_client, ADD_URL, {**form_data, "name": "orel"})
    assert CrontabSchedule.objects.count() == 1

    later = {**form_data, "purge_time": "04:35", "key_action": "keep"}
    save(admin_client, change_url(kursk), later)

    orel = PeriodicTask.objects.get(name="Очистка хранилища: orel")
    assert (orel.crontab.hour, orel.crontab.minute) == ("3", "0")
    assert CrontabSchedule.objects.count() == 2


def test_renaming_a_zone_renames_its_entries(admin_client, form_data):
    zone = save(admin_client, ADD_URL, form_data)
    pks = set(PeriodicTask.objects.values_list("pk", flat=True))

    save(admin_client, change_url(zone), {**form_data, "name": "kursk-2", "key_action": "keep"})

    assert names() == {name.replace("kursk", "kursk-2") for name in KURSK_NAMES}
    assert set(PeriodicTask.objects.values_list("pk", flat=True)) == pks
    assert set(PeriodicTask.objects.values_list("queue", flat=True)) == {"zone.kursk-2"}


def test_deleting_a_zone_removes_its_entries_and_their_schedules(admin_client, form_data):
    zone = save(admin_client, ADD_URL, form_data)
    assert CrontabSchedule.objects.exists() and IntervalSchedule.objects.exists()

    response = admin_client.post(reverse("admin:zones_zone_delete", args=[zone.pk]), {"post": "1"})

    assert response.status_code == 302
    assert names() == set()
    assert not CrontabSchedule.objects.exists()
    assert not IntervalSchedule.objects.exists()


def test_disabling_a_zone_removes_its_entries_and_their_schedules(admin_client, form_data):
    zone = save(admin_client, ADD_URL, form_data)
    disabled = {k: v for k, v in form_data.items() if k != "enabled"} | {"key_action": "keep"}

    save(admin_client, change_url(zone), disabled)

    assert names() == set()
    assert unused_crontabs() == [] and unused_intervals() == []


def test_a_new_interval_setting_drops_the_old_interval(admin_client, form_data):
    save(admin_client, ADD_URL, form_data)
    fixity = PeriodicTask.objects.get(name="Проверка целостности: kursk")
    old = fixity.interval

    with override_settings(OPVIDEO_FIXITY_INTERVAL_MINUTES=old.every + 7):
        call_command("sync_purge_schedules", stdout=io.StringIO())

    fixity.refresh_from_db()
    assert fixity.interval.every == old.every + 7
    assert not IntervalSchedule.objects.filter(pk=old.pk).exists()
    assert unused_intervals() == []


def legacy(zone: Zone) -> None:
    """The entries as the version before wrote them: named by a prefix and the zone's id."""
    PeriodicTask.objects.all().delete()
    for prefix, task in (
        ("opvideo.purge_zone.", PURGE_TASK_NAME),
        ("opvideo.verify_integrity_zone.", FIXITY_TASK_NAME),
        ("opvideo.media_read_zone.", MEDIA_TASK_NAME),
    ):
        PeriodicTask.objects.create(
            name=f"{prefix}{zone.pk}",
            task=task,
            args=json.dumps([zone.pk]),
            queue=zone.purge_queue,
            interval=IntervalSchedule.objects.create(every=5, period="minutes"),
        )
    PeriodicTask.objects.create(
        name="opvideo.purge_zone.999999",
        task=PURGE_TASK_NAME,
        args="[999999]",
        crontab=CrontabSchedule.objects.create(hour="2", minute="0", timezone="Europe/Moscow"),
    )


def test_the_sync_command_replaces_the_older_naming(admin_client, form_data):
    zone = save(admin_client, ADD_URL, form_data)
    legacy(zone)
    # A stale row an earlier version left: no task refers to it.
    CrontabSchedule.objects.create(hour="1", minute="15", timezone="Europe/Moscow")

    call_command("sync_purge_schedules", stdout=(out := io.StringIO()))

    assert names() == KURSK_NAMES, out.getvalue()
    assert "removed (no such zone)" in out.getvalue()
    assert unused_crontabs() == [] and unused_intervals() == []
    purge = PeriodicTask.objects.get(name="Очистка хранилища: kursk")
    assert (purge.crontab.hour, purge.interval) == ("3", None)


def test_migrate_renames_the_older_naming_and_creates_nothing(admin_client, form_data):
    zone = save(admin_client, ADD_URL, form_data)
    legacy(zone)
    orel = save(admin_client, ADD_URL, {**form_data, "name": "orel"})
    PeriodicTask.objects.filter(args=json.dumps([orel.pk])).delete()
    pks = set(PeriodicTask.objects.filter(args=json.dumps([zone.pk])).values_list("pk", flat=True))

    call_command("migrate", verbosity=0)

    # orel's entries are sync_purge_schedules' job; so is the capacity entry, which no
    # version named the older way (migrate creates nothing).
    assert names() == KURSK_NAMES - {"Снимок хранилища: kursk"}
    assert set(PeriodicTask.objects.values_list("pk", flat=True)) == pks


def test_the_periodic_tasks_list_shows_the_names(admin_client, form_data):
    save(admin_client, ADD_URL, form_data)
    page = admin_client.get(reverse("admin:django_celery_beat_periodictask_changelist"))
    text = page.content.decode()
    for name in KURSK_NAMES:
        assert name in text
    assert "opvideo.purge_zone" not in text
