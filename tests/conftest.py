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
    # That includes the zones a process holds: a rolled-back test's zones send no signal.
    from django.core.cache import cache

    from zones.selectors import zones_forget

    cache.clear()
    zones_forget()
    yield
    cache.clear()
    zones_forget()


@pytest.fixture(autouse=True, scope="session")
def _jinja2_pages_report_their_context():
    """``response.context`` for the Jinja2 pages too.

    Django's test set-up instruments its own template language so that each render sends
    ``template_rendered``, which the test client collects; it does not do so for Jinja2.
    This does the same for Jinja2, in the tests only: production pays nothing for it.
    """
    from django.template.backends import jinja2 as backend
    from django.test.signals import template_rendered

    render = backend.Template.render

    def instrumented_render(self, context=None, request=None):
        context = {} if context is None else context
        html = render(self, context, request)  # adds the request, csrf and processors' values
        template_rendered.send(sender=self, template=self, context=context)
        return html

    backend.Template.render = instrumented_render
    yield
    backend.Template.render = render
