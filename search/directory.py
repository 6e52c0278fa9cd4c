"""Sign-in through the directory (django-auth-ldap) as this project needs it: the accounts it
makes are marked as the directory's, a deactivated account's session is not honoured, and an
account the directory sync took away comes back when the directory accepts it again."""

from django.db import transaction
from django.utils import timezone
from django_auth_ldap.backend import LDAPBackend

from .models import DirectoryAccount


class DirectoryBackend(LDAPBackend):
    def get_user(self, user_id):
        # django-auth-ldap's own get_user returns an inactive user too, so a session signed
        # in through the directory would outlive the account's deactivation. Django's
        # ModelBackend refuses them; so does this.
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None

    def authenticate_ldap_user(self, ldap_user, password):
        # The directory has accepted the password, the required group and (through the user
        # filter) the account's being enabled by the time this returns a user.
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is not None:
            directory_account_confirm(user=user, dn=ldap_user.dn or "")
        return user


@transaction.atomic
def directory_account_confirm(*, user, dn: str) -> DirectoryAccount:
    """Record that the directory vouched for ``user`` just now. An account the sync had
    deactivated is active again; one an admin deactivated by hand stays as it is."""
    now = timezone.now()
    account, _created = DirectoryAccount.objects.select_for_update().get_or_create(user=user)
    if account.deactivated_at is not None and not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    account.deactivated_at = None
    account.dn = dn[:500]
    account.synced_at = now
    account.save()
    return account
