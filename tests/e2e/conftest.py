from tests.e2e.review_call import call  # noqa: F401 - shared fixture
from tests.search.conftest import ad_server, directory  # noqa: F401 - shared fixtures
