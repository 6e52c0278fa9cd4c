"""Purge runs in the admin: listed with their summaries, readable, never editable."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from storage.models import PurgeRun
from storage.retention import retention_today, videos_purge_expired

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:storage_purgerun_changelist")


@pytest.fixture
def run(store) -> PurgeRun:
    old = retention_today() - timedelta(days=100)
    store.recording("a.mp4", recorded=old, size=3 * 1024 * 1024)
    store.recording("gone.mp4", recorded=old, file=False)
    store.recording("../escape.mp4", recorded=old, file=False)
    videos_purge_expired(zone=store.zone)
    return PurgeRun.objects.get()


def test_runs_are_listed_with_their_summary(admin_client, run):
    response = admin_client.get(LIST_URL)

    assert response.status_code == 200
    [shown] = response.context["cl"].result_list
    assert shown == run
    page = response.content.decode()
    assert run.zone_name in page
    assert re.search(r"3[.,]0\s", page)  # 3 MB freed, in the current language's format
    assert (run.deleted, run.missing, run.refused, run.failed) == (1, 1, 1, 0)


def test_a_run_reads_with_its_problems_and_cannot_be_changed(admin_client, run):
    url = reverse("admin:storage_purgerun_change", args=[run.pk])

    page = admin_client.get(url)
    assert page.status_code == 200
    assert "escape.mp4" in page.content.decode()

    assert admin_client.post(url, {"status": "finished"}).status_code == 403
    assert admin_client.get(reverse("admin:storage_purgerun_add")).status_code == 403
    delete_url = reverse("admin:storage_purgerun_delete", args=[run.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert PurgeRun.objects.filter(pk=run.pk).exists()


def test_runs_outlive_their_zone(admin_client, run):
    zone = run.zone
    zone.videos.all().delete()
    admin_client.post(reverse("admin:zones_zone_delete", args=[zone.pk]), {"post": "yes"})

    run.refresh_from_db()
    assert run.zone is None
    assert run.zone_name == zone.name
    assert admin_client.get(LIST_URL).status_code == 200
