"""The admin's phrases built from a model's name, in Russian that agrees: the messages after
adding, changing and deleting, the count under a list, the bulk deletion, the change history,
the index's order and the day of a date drill-down (opvideo.admin_grammar, admin_site)."""

from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from client_agent.models import Workstation
from storage.models import Video
from tests.factories import make_video, make_zone
from zones.models import Zone

from .conftest import ADD_URL, LIST_URL, change_url

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_adding_changing_and_deleting_a_zone_say_so_in_the_feminine(admin_client, form_data):
    response = admin_client.post(ADD_URL, form_data)
    zone = Zone.objects.get(name="kursk")
    added = _messages(response)
    # The zone's page stays open after adding (it shows the line to install); the zone's own
    # messages about its keys come first.
    assert added[-1:] == [
        f'Площадка «<a href="{change_url(zone)}">kursk</a>» добавлена. '
        "Ниже её можно изменить снова."
    ], added

    page = admin_client.get(change_url(zone))
    changed_form = {**form_data, "retention_days": "120", "key_action": "keep"}
    changed_form.update(
        {k: v for k, v in page.context["adminform"].form.initial.items() if k == "host_keys"}
    )
    response = admin_client.post(change_url(zone), changed_form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert _messages(response) == [f'Площадка «<a href="{change_url(zone)}">kursk</a>» изменена.']
    # The history names the field in Russian, as the form does (not «Retention, days»).
    history = admin_client.get(reverse("admin:zones_zone_history", args=[zone.pk]))
    text = history.content.decode()
    assert "Изменено: срок хранения, дней" in text, text
    assert "Retention" not in text

    response = admin_client.post(
        reverse("admin:zones_zone_delete", args=[zone.pk]), {"post": "yes"}
    )
    assert _messages(response) == ["Площадка «kursk» удалена."]


@pytest.mark.parametrize(
    ("count", "shown"), [(1, "1 площадка"), (3, "3 площадки"), (5, "5 площадок")]
)
def test_the_list_counts_its_rows_as_russian_counts(admin_client, count, shown):
    for _n in range(count):
        make_zone()
    page = admin_client.get(LIST_URL).content.decode()
    assert f"\n{shown}\n" in page
    assert "Добавить площадку" in page and "Удалить выбранные площадки" in page


def test_an_empty_token_list_says_zero_tokens(admin_client):
    page = admin_client.get(reverse("admin:search_apitoken_changelist")).content.decode()
    assert "\n0 API-токенов\n" in page


def test_deleting_selected_rows_counts_them(admin_client):
    now = timezone.now()
    for host in ("op101", "op102"):
        Workstation.objects.create(host=host, zone_name="kursk", last_seen=now)
    url = reverse("admin:client_agent_workstation_changelist")
    rows = list(Workstation.objects.values_list("pk", flat=True))
    ask = {"action": "delete_selected", "_selected_action": rows}
    confirm = admin_client.post(url, ask).content.decode()
    assert "Удалить выбранные рабочие места (2)?" in confirm
    response = admin_client.post(url, {**ask, "post": "yes"})
    assert _messages(response) == ["Удалены 2 рабочих места."]


def test_users_are_animate_in_the_delete_action(admin_client):
    page = admin_client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "Удалить выбранных пользователей" in page
    assert "Выберите пользователя для изменения" in page


def test_the_index_puts_zones_first_and_the_service_sections_last(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    order = [
        page.index(f'class="app-{label} module')
        for label in ("zones", "client_agent", "storage", "search")
    ]
    heading = page.index("Служебное")
    service = [
        page.index(f'class="app-{label} module') for label in ("auth", "axes", "django_celery_beat")
    ]
    assert order == sorted(order) and order[-1] < heading < min(service)
    assert service == sorted(service)
    assert "Защита входа" in page and "Логи доступа" not in page
    assert "Разовые запуски" in page


def test_a_day_of_the_drill_down_has_its_month_in_the_genitive(admin_client):
    make_video(zone=make_zone(), recording_date=date(2026, 11, 30))
    url = reverse("admin:storage_video_changelist")
    page = admin_client.get(url + "?recording_date__year=2026&recording_date__month=11")
    text = page.content.decode()
    assert "30 ноября" in text and "30 Ноябрь" not in text
    assert Video.objects.count() == 1


def test_the_sign_in_attempts_cleanup_reports_in_russian(admin_client):
    from axes.models import AccessAttempt

    attempt = AccessAttempt.objects.create(
        username="ivanov", ip_address="10.0.0.7", user_agent="Chromium", failures_since_start=1
    )
    url = reverse("admin:axes_accessattempt_changelist")
    response = admin_client.post(
        url, {"action": "cleanup_expired_attempts", "_selected_action": [attempt.pk]}
    )
    # The attempt is fresh: nothing has expired yet (and the action no longer fails on a
    # request that is not a sign-in).
    assert _messages(response) == ["Удалено 0 истёкших попыток входа."]


def test_the_task_schedule_actions_count_in_russian(admin_client):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from search.tasks import DIRECTORY_SYNC_TASK_NAME

    every = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.MINUTES)
    tasks = [
        PeriodicTask.objects.create(
            name=f"Проверка {n}", task=DIRECTORY_SYNC_TASK_NAME, interval=every, enabled=False
        )
        for n in range(2)
    ]
    url = reverse("admin:django_celery_beat_periodictask_changelist")
    chosen = [task.pk for task in tasks]
    response = admin_client.post(url, {"action": "enable_tasks", "_selected_action": chosen})
    assert _messages(response) == ["Включены 2 задачи."]
    # Sent to the broker (no worker runs them here).
    response = admin_client.post(url, {"action": "run_tasks", "_selected_action": chosen[:1]})
    assert _messages(response)[-1:] == ["Запущена 1 задача."]
    listing = admin_client.get(url).content.decode()
    assert "каждые 10 минут" in listing
