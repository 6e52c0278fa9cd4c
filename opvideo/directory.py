"""django-auth-ldap settings for Active Directory, built in one place.

settings.py calls this with values from the environment; the tests call it with a real slapd's
address, so what they exercise is the configuration production gets.
"""

from typing import Any

import ldap
from django_auth_ldap.config import ActiveDirectoryGroupType, LDAPSearch

# sAMAccountName as AD has it, minus disabled accounts (userAccountControl bit 2,
# ACCOUNTDISABLE, via the bitwise-AND matching rule). AD itself refuses a disabled account's
# bind too; the filter makes the refusal not depend on that.
DEFAULT_USER_FILTER = (
    "(&(sAMAccountName=%(user)s)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"
)


def directory_settings(
    *,
    server_uris: list[str],
    user_search_base: str,
    bind_dn: str = "",
    bind_password: str = "",
    user_filter: str = DEFAULT_USER_FILTER,
    group_search_base: str = "",
    search_group: str = "",
    admin_group: str = "",
    start_tls: bool = False,
    ca_cert_file: str = "",
    timeout: int = 5,
    cache_timeout: int = 600,
) -> dict[str, Any]:
    options = {
        # AD answers with referrals python-ldap cannot follow anonymously.
        ldap.OPT_REFERRALS: 0,
        ldap.OPT_NETWORK_TIMEOUT: timeout,
        ldap.OPT_TIMEOUT: timeout,
    }
    result: dict[str, Any] = {
        # python-ldap takes several servers as one space-separated string and fails over.
        "AUTH_LDAP_SERVER_URI": " ".join(server_uris),
        "AUTH_LDAP_BIND_DN": bind_dn,
        "AUTH_LDAP_BIND_PASSWORD": bind_password,
        "AUTH_LDAP_START_TLS": start_tls,
        "AUTH_LDAP_CONNECTION_OPTIONS": options,
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(user_search_base, ldap.SCOPE_SUBTREE, user_filter),
        "AUTH_LDAP_USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn", "email": "mail"},
        "AUTH_LDAP_GROUP_SEARCH": LDAPSearch(
            group_search_base or user_search_base, ldap.SCOPE_SUBTREE, "(objectClass=group)"
        ),
        "AUTH_LDAP_GROUP_TYPE": ActiveDirectoryGroupType(),
        "AUTH_LDAP_REQUIRE_GROUP": search_group or None,
        "AUTH_LDAP_USER_FLAGS_BY_GROUP": (
            {"is_staff": admin_group, "is_superuser": admin_group} if admin_group else {}
        ),
        # Directory groups become Django groups of the same name at each login, so the QA
        # group (OPVIDEO_HOLD_GROUP) is simply a directory group.
        "AUTH_LDAP_MIRROR_GROUPS": True,
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        "AUTH_LDAP_CACHE_TIMEOUT": cache_timeout,
    }
    if ca_cert_file:
        result["AUTH_LDAP_GLOBAL_OPTIONS"] = {ldap.OPT_X_TLS_CACERTFILE: ca_cert_file}
    return result


def authentication_backends(*, with_directory: bool) -> list[str]:
    return [
        # First, so a locked-out user name is refused before any directory is asked.
        "axes.backends.AxesStandaloneBackend",
        *(["search.directory.DirectoryBackend"] if with_directory else []),
        # Last: local accounts, and the break-glass superuser when the directory is down.
        "django.contrib.auth.backends.ModelBackend",
    ]
