"""/metrics: who may scrape it, and what it says about seeded zones."""

import math
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from opvideo.metrics.collector import video_newest
from storage.models import PurgeRun, Video, ZoneDay
from tests.factories import make_video, make_zone, session_id
from tests.metrics.scrape import GB, TOKEN, samples, scrape, value

pytestmark = pytest.mark.django_db

# --- Access --------------------------------------------------------------------------------


def test_closed_by_default(client, settings):
    settings.OPVIDEO_METRICS_TOKEN = ""
    settings.OPVIDEO_METRICS_ALLOW = []
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer "}, {"HTTP_AUTHORIZATION": "Bearer x"}):
        response = client.get("/metrics", **headers)
        assert response.status_code == 404
        assert b"opvideo_" not in response.content


def test_token_accepted(client, token):
    response = scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert b"opvideo_metrics_collect_seconds" in response.content


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
        TOKEN,
        "Bearer токен",
    ],
)
def test_token_refused(client, token, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.get("/metrics", **extra)
    assert response.status_code == 403
    assert b"opvideo_" not in response.content
    assert b"# HELP" not in response.content


def test_allow_list(client, settings):
    settings.OPVIDEO_METRICS_TOKEN = ""
    settings.OPVIDEO_METRICS_ALLOW = ["10.20.0.0/16", "2001:db8::/32"]
    for addr in ("10.20.3.4", "::ffff:10.20.0.9", "2001:db8::5"):
        response = client.get("/metrics", REMOTE_ADDR=addr)
        assert response.status_code == 200, addr
        assert b"opvideo_zone_" in response.content or b"opvideo_metrics" in response.content
    for addr in ("10.21.0.1", "127.0.0.1", "2001:db9::1", "", "not-an-address"):
        response = client.get("/metrics", REMOTE_ADDR=addr)
        assert response.status_code == 403, addr
        assert b"opvideo_" not in response.content


def test_forwarded_for_cannot_spoof_the_address(client, settings):
    settings.OPVIDEO_METRICS_TOKEN = ""
    settings.OPVIDEO_METRICS_ALLOW = ["10.20.0.0/16"]
    # Even where the site trusts a proxy's X-Forwarded-For for other purposes.
    settings.PROXY_COUNT = 1
    for forwarded in ("10.20.3.4", "10.20.3.4, 10.20.3.5", "1.2.3.4, 10.20.3.4"):
        response = client.get(
            "/metrics",
            REMOTE_ADDR="192.0.2.1",
            HTTP_X_FORWARDED_FOR=forwarded,
            HTTP_X_REAL_IP="10.20.3.4",
        )
        assert response.status_code == 403, forwarded


def test_token_and_allow_list_both_required_when_both_set(client, settings):
    settings.OPVIDEO_METRICS_TOKEN = TOKEN
    settings.OPVIDEO_METRICS_ALLOW = ["10.20.0.0/16"]
    assert scrape(client, REMOTE_ADDR="10.20.1.1").status_code == 200
    assert scrape(client, REMOTE_ADDR="10.30.1.1").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.20.1.1").status_code == 403


def test_scraped_over_plain_http_from_any_host_name(client, token, settings):
    # Prometheus scrapes gunicorn by address, over the internal network: neither the https
    # redirect nor ALLOWED_HOSTS stands in the way (the token does the guarding).
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["opvideo.example.ru"]
    response = scrape(client, HTTP_HOST="10.0.1.7:8000")
    assert response.status_code == 200
    # The rest of the site still refuses that host.
    assert client.get("/healthz/", HTTP_HOST="10.0.1.7:8000").status_code in (301, 400)


def test_only_get(client, token):
    response = client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 405


def test_openmetrics_when_asked(client, token):
    response = scrape(client, HTTP_ACCEPT="application/openmetrics-text; version=1.0.0")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.endswith(b"# EOF\n")


# --- Values --------------------------------------------------------------------------------


def test_request_histogram_counts_requests(client, token):
    def healthz_count() -> float:
        found = samples(scrape(client).content.decode())
        return (
            value(
                found,
                "opvideo_http_request_duration_seconds_count",
                view="healthz",
                method="GET",
                status="200",
            )
            or 0
        )

    before = healthz_count()
    for _ in range(3):
        assert client.get("/healthz/").status_code == 200
    assert healthz_count() == before + 3
    found = samples(scrape(client).content.decode())
    # Unknown paths are one label, not one per path.
    client.get("/no-such-page-123/")
    found = samples(scrape(client).content.decode())
    assert value(
        found,
        "opvideo_http_request_duration_seconds_count",
        view="unresolved",
        method="GET",
        status="404",
    )
    assert not any("no-such-page" in str(labels) for _, labels in found)


def test_zone_values(client, seeded):
    found = samples(scrape(client).content.decode())

    def v(name, **labels):
        return value(found, name, **labels)

    k = {"zone": "kursk"}
    assert {labels for _, labels in found if ("zone", "off") in labels} == set()
    assert v("opvideo_zone_retention_days", **k) == 100
    assert v("opvideo_zone_received_recordings", day="today", **k) == 7
    assert v("opvideo_zone_received_bytes", day="today", **k) == 700
    assert v("opvideo_zone_received_recordings", day="yesterday", **k) == 101
    assert v("opvideo_zone_received_bytes", day="yesterday", **k) == 10 * GB
    assert 20 * 60 <= v("opvideo_zone_last_received_age_seconds", **k) < 25 * 60
    # Workstations: op1, op2 ok; op3 quiet; op4 failing (never delivered).
    assert v("opvideo_zone_workstations", state="ok", **k) == 2
    assert v("opvideo_zone_workstations", state="quiet", **k) == 1
    assert v("opvideo_zone_workstations", state="failing", **k) == 1
    assert v("opvideo_zone_waiting_recordings", **k) == 7
    assert v("opvideo_workstations_without_zone", state="ok") == 1
    # Storage and forecast: 60 GB free at 6 GB/day is 10 days.
    assert v("opvideo_zone_storage_total_bytes", **k) == 2000 * GB
    assert v("opvideo_zone_storage_used_bytes", **k) == 1940 * GB
    assert v("opvideo_zone_storage_free_bytes", **k) == 60 * GB
    assert v("opvideo_zone_storage_files", **k) == 12345
    assert v("opvideo_zone_storage_files_bytes", **k) == 1900 * GB
    assert 30 * 60 <= v("opvideo_zone_storage_snapshot_age_seconds", **k) < 35 * 60
    oldest = v("opvideo_zone_storage_oldest_recording_age_seconds", **k)
    assert 120 * 86400 <= oldest < 121 * 86400
    assert v("opvideo_zone_ingest_bytes_per_day", **k) == pytest.approx(10 * GB)
    assert v("opvideo_zone_growth_bytes_per_day", **k) == pytest.approx(6 * GB)
    assert v("opvideo_zone_storage_days_to_full", **k) == pytest.approx(10)
    # 100 days at 10 GB = 1000 GB, room 2000 - 40 = 1960 GB: fits.
    assert v("opvideo_zone_retention_needed_bytes", **k) == pytest.approx(1000 * GB)
    assert v("opvideo_zone_storage_room_bytes", **k) == 1960 * GB
    assert v("opvideo_zone_retention_fits", **k) == 1
    assert v("opvideo_zone_capacity_warning", **k) == 1  # 10 days < 14
    # The last purge (the failed one) and the last that finished.
    assert v("opvideo_zone_purge_last_status", status="failed", **k) == 1
    assert v("opvideo_zone_purge_last_status", status="finished", **k) == 0
    for result, n in {"deleted": 5, "missing": 1, "refused": 3, "failed": 4, "differs": 1}.items():
        assert v("opvideo_zone_purge_last_files", result=result, **k) == n
    assert v("opvideo_zone_purge_last_freed_bytes", **k) == 5 * GB
    assert 50 * 60 <= v("opvideo_zone_purge_last_age_seconds", **k) < 55 * 60
    success = v("opvideo_zone_purge_last_success_age_seconds", **k)
    assert (24 * 60 + 50) * 60 <= success < (24 * 60 + 55) * 60
    assert v("opvideo_zone_purge_refused_total", **k) == 5
    # Integrity.
    assert 2 * 3600 <= v("opvideo_zone_integrity_last_check_age_seconds", **k) < 2 * 3600 + 300
    assert v("opvideo_zone_integrity_findings", kind="mismatch", **k) == 2
    assert v("opvideo_zone_integrity_findings", kind="missing", **k) == 1
    assert v("opvideo_zone_integrity_findings", kind="size", **k) == 0
    assert 3 * 3600 <= v("opvideo_zone_integrity_last_finding_age_seconds", **k) < 3 * 3600 + 300


def test_zone_without_history(client, seeded):
    found = samples(scrape(client).content.decode())
    e = {"zone": "empty"}
    # Counted from the zone's creation: a new zone is not "never purged" for ever.
    for name in (
        "opvideo_zone_last_received_age_seconds",
        "opvideo_zone_purge_last_success_age_seconds",
        "opvideo_zone_integrity_last_check_age_seconds",
    ):
        assert 0 <= value(found, name, **e) < 300, name
    for name in (
        "opvideo_zone_storage_days_to_full",
        "opvideo_zone_retention_fits",
        "opvideo_zone_storage_free_bytes",
        "opvideo_zone_integrity_last_finding_age_seconds",
    ):
        assert value(found, name, **e) is None, name
    assert value(found, "opvideo_zone_purge_last_status", status="finished", **e) is None
    assert value(found, "opvideo_zone_received_recordings", day="today", **e) == 0
    assert value(found, "opvideo_zone_workstations", state="ok", **e) == 0
    assert value(found, "opvideo_zone_capacity_warning", **e) == 0


def test_days_to_full_infinite_when_not_growing(client, seeded):
    ZoneDay.objects.filter(zone=seeded).update(purged_bytes=11 * GB)
    found = samples(scrape(client).content.decode())
    assert math.isinf(value(found, "opvideo_zone_storage_days_to_full", zone="kursk"))
    assert value(found, "opvideo_zone_capacity_warning", zone="kursk") == 0


def test_retention_does_not_fit(client, seeded):
    ZoneDay.objects.filter(zone=seeded).update(received_bytes=30 * GB, purged_bytes=30 * GB)
    found = samples(scrape(client).content.decode())
    assert value(found, "opvideo_zone_retention_fits", zone="kursk") == 0
    assert value(found, "opvideo_zone_capacity_warning", zone="kursk") == 1


def test_scrape_queries_do_not_grow_with_zones(client, seeded):
    with CaptureQueriesContext(connection) as one:
        assert scrape(client).status_code == 200
    for n in range(5):
        zone = make_zone(name=f"more{n}")
        make_video(zone=zone)
        PurgeRun.objects.create(
            zone=zone,
            zone_name=zone.name,
            trigger="schedule",
            status="finished",
            today=timezone.localdate(),
            started_at=timezone.now(),
        )
    with CaptureQueriesContext(connection) as six:
        assert scrape(client).status_code == 200
    assert len(six) == len(one) <= 16


# ANALYZE TABLE commits (an implicit commit in MySQL/MariaDB): a transactional test, so its
# rows are flushed afterwards instead of leaking into the tests after it.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("field", "index"),
    [
        ("registered_at", "VIDEO_ZONE_REGISTERED_IDX"),
        ("integrity_checked_at", "VIDEO_INTEGRITY_DUE_IDX"),
    ],
)
def test_video_read_from_its_index_alone(field, index):
    zones = [make_zone() for _ in range(3)]
    now = timezone.now()
    Video.objects.bulk_create(
        Video(
            zone=zones[n % 3],
            session_id=session_id(n),
            file_name=f"idx_{n}.mp4",
            recording_date=date(2026, 11, 1),
            registered_at=now - timedelta(minutes=n),
            integrity_checked_at=now - timedelta(minutes=n) if n % 2 else None,
        )
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE TABLE VIDEO")
        cursor.fetchall()
    plan = video_newest([z.pk for z in zones], field).explain()
    assert index in plan, plan
    # The index alone, one entry per zone: no row of VIDEO read, nothing sorted.
    assert "Using index for group-by" in plan, plan
    assert "filesort" not in plan, plan


def test_static_files_are_one_label(client, token):
    client.get("/static/search/site.css")
    found = samples(scrape(client).content.decode())
    views = {dict(labels).get("view") for name, labels in found if name.startswith("opvideo_http")}
    assert "static" in views
    assert not any("site.css" in str(labels) for _, labels in found)


def test_a_scrape_reads_no_secret_and_survives_a_wrong_field_key(client, seeded, settings):
    """The zones' keys are never read for a scrape: nothing to decrypt per request, and a
    FIELD_ENCRYPTION_KEYS that does not fit (a key rotation half done) still scrapes."""
    with CaptureQueriesContext(connection) as queries:
        assert scrape(client).status_code == 200
    secret_columns = ("`RSA_KEY`", "`LINK_SECRET`", "`CLIENT_KEY`", "`CLIENT_RSA_KEY`")
    assert not [q["sql"] for q in queries if any(c in q["sql"] for c in secret_columns)]

    from cryptography.fernet import Fernet

    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    response = scrape(client)
    assert response.status_code == 200
    assert "opvideo_zone_storage_free_bytes" in response.content.decode()
