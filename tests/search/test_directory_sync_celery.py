"""The hourly directory sync as production runs it: beat's fixed entry, written by
django-celery-beat's scheduler from the settings a process with a directory builds, sent to
queue ``directory``, run by a real Celery worker against the real slapd."""

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django_celery_beat.models import PeriodicTask

from search.models import AccessEvent
from search.tasks import DIRECTORY_QUEUE
from tests.helpers import manage, subprocess_db_env, wait_until
from tests.services.celery import worker
from tests.services.directory import PASSWORDS

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# What beat does when the entry is due: the scheduler (which writes the settings' fixed
# entries into its table as it starts) loads the entry and Celery's Scheduler sends it.
BEAT_SENDS = """
from django_celery_beat.schedulers import DatabaseScheduler
from opvideo.celery import app
scheduler = DatabaseScheduler(app=app)
entry = scheduler.all_as_schedule()["opvideo: directory sync"]
scheduler.apply_async(entry, advance=False)
print(entry.task, entry.options["queue"])
"""


def directory_env(server) -> dict[str, str]:
    """The environment settings.py reads the directory from (.env.example's names)."""
    return {
        "LDAP_SERVER_URI": server.ldap_uri,
        "LDAP_USER_SEARCH_BASE": f"ou=staff,{server.suffix}",
        "LDAP_BIND_DN": f"cn=svc-opvideo,ou=staff,{server.suffix}",
        "LDAP_BIND_PASSWORD": "Bind-pass-1",
        "LDAP_GROUP_SEARCH_BASE": f"ou=groups,{server.suffix}",
        "LDAP_SEARCH_GROUP": server.group_dn("OPVideo Users"),
        "LDAP_ADMIN_GROUP": server.group_dn("OPVideo Admins"),
        "LDAP_TIMEOUT": "2",
        "LDAP_CACHE_TIMEOUT": "0",
    }


def test_beat_entry_sends_the_sync_to_the_directory_worker(directory, ad_server, tmp_path):
    client = Client()
    login = {"username": "operator1", "password": PASSWORDS["operator1"]}
    assert client.post("/login/", login).status_code == 302
    ad_server.group_member("OPVideo Users", "operator1", member=False)
    env = {**subprocess_db_env(), **directory_env(ad_server)}
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        sent = manage("shell", "-c", BEAT_SENDS, env=env)
        assert sent.stdout.splitlines()[-1].split() == ["search.directory_sync", DIRECTORY_QUEUE]
        entry = PeriodicTask.objects.get(name="opvideo: directory sync")
        assert (entry.queue, entry.interval.every, entry.interval.period) == (
            DIRECTORY_QUEUE,
            3600,
            "seconds",
        )
        log = tmp_path / "worker.log"
        with worker(DIRECTORY_QUEUE, log, **directory_env(ad_server)):
            wait_until(
                lambda: not User.objects.get(username="operator1").is_active,
                what="the worker's directory sync",
            )
        assert AccessEvent.objects.filter(action="directory_off", username="operator1").exists()
        assert client.get("/").status_code == 302  # signed out
    finally:
        ad_server.group_member("OPVideo Users", "operator1", member=True)
        broker.delete(DIRECTORY_QUEUE, f"_kombu.binding.{DIRECTORY_QUEUE}")
        broker.close()


def test_the_sync_sent_by_hand_goes_to_the_directory_worker_too():
    from opvideo.celery import app
    from search.tasks import directory_sync

    route = app.amqp.router.route({}, directory_sync.name, (), {}, directory_sync)
    assert route["queue"].name == DIRECTORY_QUEUE
