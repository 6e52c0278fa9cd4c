from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        from django_auth_ldap.backend import ldap_error

        from .auth import directory_error_mark

        ldap_error.connect(directory_error_mark, dispatch_uid="opvideo-directory-error")
