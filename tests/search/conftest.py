import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from tests.services.directory import ActiveDirectory, Directory


@pytest.fixture(scope="session")
def ad_server():
    server = ActiveDirectory()
    server.start()
    server.load()
    yield server
    server.stop()


@pytest.fixture
def directory(ad_server, settings):
    """Settings pointed at the real slapd, exactly as settings.py builds them."""
    from opvideo.directory import authentication_backends

    ad = Directory(server=ad_server)
    for name, value in ad.settings().items():
        setattr(settings, name, value)
    settings.AUTHENTICATION_BACKENDS = authentication_backends(with_directory=True)
    cache.clear()
    return ad


@pytest.fixture
def operator(client):
    """An operator signed in on ``client`` (no staff rights, no groups)."""
    user = User.objects.create_user("operator", password="pw-operator-1")
    client.force_login(user)
    return user
