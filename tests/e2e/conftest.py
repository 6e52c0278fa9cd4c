from tests.search.conftest import ad_server, directory  # noqa: F401 - shared fixtures
