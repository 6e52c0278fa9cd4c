"""Suite-wide setup: the tests run against the real MariaDB, never SQLite."""

import pytest


def pytest_configure(config):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if engine != "django.db.backends.mysql":
        pytest.exit(
            f"the suite runs against MariaDB, but DATABASE_URL points at {engine}: "
            "run it with `make test` (or export DATABASE_URL=mysql://...)",
            returncode=2,
        )


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    # Production serves static files from whitenoise's manifest, which only collectstatic
    # writes; the tests render pages without running it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _empty_cache():
    # Each test starts from a cold cache, as after a deploy: nothing leaks between tests.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
