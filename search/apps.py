from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "search"
    # The audit and the API tokens: who may reach the recordings, and who did.
    verbose_name = _("Access to recordings")

    def ready(self) -> None:
        from django_auth_ldap.backend import ldap_error

        from .auth import directory_error_mark

        ldap_error.connect(directory_error_mark, dispatch_uid="opvideo-directory-error")


@checks.register(checks.Tags.security)
def session_data_stays_on_the_server(app_configs, **kwargs):
    """A new API key waits in the session between the admin's form and the page that shows
    it once (search.admin): session data must not travel in a cookie."""
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.signed_cookies":
        return [
            checks.Error(
                "SESSION_ENGINE keeps session data in a (signed, readable) cookie; a new API "
                "key would travel in it",
                hint="use the database, cached_db or cache session engine",
                id="search.E001",
            )
        ]
    return []
