"""A real OpenLDAP slapd (python-ldap's slapdtest) shaped like Active Directory: users with
sAMAccountName and userAccountControl, groups with member."""

from dataclasses import dataclass
from pathlib import Path

from slapdtest import SlapdObject

from opvideo.directory import directory_settings

SCHEMA = Path(__file__).with_name("ad-shape.ldif")

PASSWORDS = {
    "operator1": "Operator-pass-1",
    "qa1": "Qa-pass-1",
    "admin1": "Admin-pass-1",
    "outsider": "Outsider-pass-1",
    "disabled1": "Disabled-pass-1",
}

PEOPLE = {
    "operator1": ("Ольга", "Операторова", 512),
    "qa1": ("Кира", "Контролёва", 512),
    "admin1": ("Антон", "Админов", 512),
    "outsider": ("Олег", "Посторонний", 512),
    "disabled1": ("Денис", "Уволенный", 514),  # 514 = NORMAL_ACCOUNT | ACCOUNTDISABLE
}


class ActiveDirectory(SlapdObject):
    openldap_schema_files = ("core.ldif", "cosine.ldif", "inetorgperson.ldif", str(SCHEMA))

    def load(self) -> None:
        base = self.suffix
        users = f"ou=staff,{base}"
        groups = f"ou=groups,{base}"
        entries = [
            f"dn: {base}\nobjectClass: dcObject\nobjectClass: organization\n"
            "dc: slapd-test\no: test",
            f"dn: {users}\nobjectClass: organizationalUnit\nou: staff",
            f"dn: {groups}\nobjectClass: organizationalUnit\nou: groups",
            f"dn: cn=svc-opvideo,{users}\nobjectClass: user\ncn: svc-opvideo\nsn: svc\n"
            f"sAMAccountName: svc-opvideo\nuserPassword: Bind-pass-1",
        ]
        entries += [self.person_entry(account) for account in PEOPLE]
        memberships = {
            "OPVideo Users": ["operator1", "qa1", "admin1", "disabled1"],
            "opvideo-qa": ["qa1"],
            "OPVideo Admins": ["admin1"],
        }
        for group, members in memberships.items():
            lines = [f"dn: cn={group},{groups}", "objectClass: group", f"cn: {group}"]
            lines += ["groupType: -2147483646"]
            lines += [f"member: cn={m},{users}" for m in members]
            entries.append("\n".join(lines))
        self.ldapadd("\n\n".join(entries) + "\n")

    def person_entry(self, account: str) -> str:
        given, family, uac = PEOPLE[account]
        return (
            f"dn: {self.user_dn(account)}\nobjectClass: user\ncn: {account}\n"
            f"givenName:: {_b64(given)}\nsn:: {_b64(family)}\nmail: {account}@example.ru\n"
            f"sAMAccountName: {account.upper() if account == 'qa1' else account}\n"
            f"userAccountControl: {uac}\nuserPassword: {PASSWORDS[account]}"
        )

    def group_dn(self, name: str) -> str:
        return f"cn={name},ou=groups,{self.suffix}"

    def user_dn(self, account: str) -> str:
        return f"cn={account},ou=staff,{self.suffix}"

    # What an AD administrator does when someone leaves or comes back; each has its undo.

    def group_member(self, group: str, account: str, *, member: bool) -> None:
        change = "add" if member else "delete"
        self.ldapmodify(
            f"dn: {self.group_dn(group)}\nchangetype: modify\n{change}: member\n"
            f"member: {self.user_dn(account)}\n"
        )

    def account_control(self, account: str, value: int) -> None:
        self.ldapmodify(
            f"dn: {self.user_dn(account)}\nchangetype: modify\n"
            f"replace: userAccountControl\nuserAccountControl: {value}\n"
        )


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


@dataclass
class Directory:
    server: ActiveDirectory

    def settings(self, **overrides) -> dict:
        """What settings.py builds from the environment for this directory."""
        values = dict(
            server_uris=[self.server.ldap_uri],
            user_search_base=f"ou=staff,{self.server.suffix}",
            bind_dn=f"cn=svc-opvideo,ou=staff,{self.server.suffix}",
            bind_password="Bind-pass-1",
            group_search_base=f"ou=groups,{self.server.suffix}",
            search_group=self.server.group_dn("OPVideo Users"),
            admin_group=self.server.group_dn("OPVideo Admins"),
            timeout=2,
            cache_timeout=0,
        )
        values.update(overrides)
        return directory_settings(**values)
