"""/metrics under the image's web entrypoint: gunicorn with two workers in prometheus-client's
multiprocess mode. Whichever worker answers a scrape, it reports every worker's requests;
the entrypoint empties the directory of an earlier start; Prometheus gets in over plain HTTP
by address, while the site's own host and https checks stay on."""

import http.client
from pathlib import Path

import pytest

from tests.deploy.conftest import database_url, entrypoint, entrypoint_env
from tests.deploy.test_entrypoints import wait_http
from tests.helpers import free_port, wait_until
from tests.metrics.scrape import samples, value

pytestmark = pytest.mark.slow

TOKEN = "multiprocess-test-token"
ALLOWED_HOST = "opvideo.example.ru"


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def pids_with_files(directory: Path) -> set[str]:
    return {path.stem.rsplit("_", 1)[-1] for path in directory.glob("histogram_*.db")}


def test_two_workers_one_sum(migrated_database, tmp_path):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    stale = metrics_dir / "histogram_999999.db"
    stale.write_bytes(b"an earlier start's figures")
    port = free_port()
    env = entrypoint_env(
        DATABASE_URL=database_url(migrated_database),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        DJANGO_ALLOWED_HOSTS=ALLOWED_HOST,
        DJANGO_SECURE_SSL_REDIRECT="true",
        DJANGO_SECURE_COOKIES="true",
        DJANGO_BEHIND_TLS_PROXY="true",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        OPVIDEO_METRICS_TOKEN=TOKEN,
    )
    with entrypoint("web", env=env, log=tmp_path / "web.log") as web:
        wait_http(port, web)
        wait_until(lambda: web.output().count("Booting worker") >= 2, what="two gunicorn workers")
        assert not stale.exists()

        # Requests until both workers have answered some (the kernel picks the worker).
        page = {"Host": ALLOWED_HOST, "X-Forwarded-Proto": "https"}
        sent = 0

        def both_answered() -> bool:
            nonlocal sent
            for _ in range(5):
                assert get(port, "/healthz/", page) == (200, b"ok\n")
                sent += 1
            return len(pids_with_files(metrics_dir)) >= 2

        wait_until(both_answered, what="requests answered by both workers", limit=120)

        # Prometheus: plain HTTP, the address as Host.
        scraper = {"Host": f"127.0.0.1:{port}", "Authorization": f"Bearer {TOKEN}"}
        for _ in range(6):
            status, body = get(port, "/metrics", scraper)
            assert status == 200, body
            found = samples(body.decode())
            count = value(
                found,
                "opvideo_http_request_duration_seconds_count",
                view="healthz",
                method="GET",
                status="200",
            )
            assert count == sent
        assert get(port, "/metrics", {**scraper, "Authorization": "Bearer nope"})[0] == 403
        # The pages themselves still refuse that host and plain HTTP.
        assert get(port, "/healthz/", {"Host": f"127.0.0.1:{port}"})[0] in (301, 400)
        assert get(port, "/healthz/", {"Host": ALLOWED_HOST})[0] == 301
