"""The zone admin form: model fields plus the ssh key section.

The form only validates; saving goes through ``zones.services``. The private key textarea
is write-only: whatever was typed into it is never rendered back, not even when the form is
shown again with errors, so a key cannot end up in a page, a browser cache or a screenshot.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import NOT_PROVIDED, TextChoices, Value
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from . import host_keys, ssh_keys
from .file_names import DEFAULT_FILE_NAME_PATTERN
from .models import Zone
from .services import KeyAction, zone_check

# Where a service's error about a model field shows in the form (the form edits the key and
# the host keys through fields of its own).
_SERVICE_FIELD_TARGETS = {"ssh_private_key": "private_key", "host_keys": "host_key_action"}

ZONE_FORM_FIELDS = (
    "name",
    "enabled",
    "server",
    "ssh_user",
    "ssh_port",
    "path_dst",
    "speed_kbps",
    "path_src",
    "file_extension",
    "file_name_pattern",
    "retention_days",
    "purge_time",
    "public_scheme",
    "public_address",
    "public_port",
)
KEY_FORM_FIELDS = ("key_action", "private_key")
HOST_KEY_FORM_FIELDS = (
    "host_key_action",
    "host_keys_pasted",
    "host_keys_shown",
    "host_keys_confirm",
)


class HostKeyAction(TextChoices):
    KEEP = "keep", _("Keep the pinned keys")
    FETCH = "fetch", _("Fetch them from the server (ssh-keyscan) and confirm")
    PASTE = "paste", _("Paste the public host keys")
    CLEAR = "clear", _("None for now: workstations send nothing")


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never shows a value (what ``PasswordInput`` does for one line)."""

    def format_value(self, value):
        return None


class ZoneAdminForm(forms.ModelForm):
    key_action = forms.ChoiceField(
        label=_("Key"),
        choices=KeyAction.choices,
        widget=forms.RadioSelect,
    )
    private_key = forms.CharField(
        label=_("Private key"),
        required=False,
        strip=False,
        max_length=ssh_keys.MAX_KEY_TEXT_LENGTH,
        widget=WriteOnlyTextarea(
            attrs={"rows": 8, "cols": 70, "autocomplete": "off", "spellcheck": "false"}
        ),
        help_text=_(
            "Only with 'Paste a private key': the whole file, from -----BEGIN to -----END. "
            "Never shown again after saving: this page shows only its fingerprint."
        ),
    )

    host_key_action = forms.ChoiceField(
        label=_("Host keys"),
        choices=HostKeyAction.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    host_keys_pasted = forms.CharField(
        label=_("Public host keys"),
        required=False,
        strip=False,
        max_length=host_keys.MAX_TEXT_LENGTH,
        widget=forms.Textarea(
            attrs={"rows": 4, "cols": 70, "autocomplete": "off", "spellcheck": "false"}
        ),
        help_text=_(
            "Only with 'Paste the public host keys': the server's /etc/ssh/ssh_host_*_key.pub "
            "files, or known_hosts lines, one key per line."
        ),
    )
    # The keys whose fingerprints the page showed: a confirmation is for exactly those.
    host_keys_shown = forms.CharField(required=False, widget=forms.HiddenInput)
    host_keys_confirm = forms.BooleanField(
        label=_("The fingerprints match the server's"),
        required=False,
        help_text=_(
            "Tick only after comparing the fingerprints shown with what the storage server "
            "itself prints: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub (and the same for "
            "its other .pub files)."
        ),
    )

    class Meta:
        model = Zone
        fields = ZONE_FORM_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        adding = self.instance._state.adding
        if adding:
            # A new zone has no key to keep.
            self.fields["key_action"].choices = [
                c for c in KeyAction.choices if c[0] != KeyAction.KEEP
            ]
            self.fields["key_action"].initial = KeyAction.ED25519
            self._initial_from_db_defaults()
            self.fields["host_key_action"].choices = [
                c for c in HostKeyAction.choices if c[0] != HostKeyAction.KEEP
            ]
            self.fields["host_key_action"].initial = HostKeyAction.FETCH
        else:
            self.fields["key_action"].initial = KeyAction.KEEP
            self.fields["host_key_action"].initial = HostKeyAction.KEEP
        # None: the zone's keys stay as they are; a string: what to store.
        self.host_keys_new: str | None = None
        # The admin marks help texts safe: the pattern's "<" must be escaped here.
        self.fields["file_name_pattern"].help_text = format_html(
            "{}<br><code>{}</code>",
            _(
                "A regular expression searched in each recording's file name, with the groups "
                "session_id (required) and project_id, date, time and operator (optional: the "
                "call's start as the recorder wrote it, YYYY-MM-DD, YYYYMMDD or DD.MM.YYYY and "
                "HH-MM-SS, HHMMSS, HH:MM:SS or HH.MM.SS; the operator's login). Empty: the "
                "standard one,"
            ),
            DEFAULT_FILE_NAME_PATTERN,
        )

    def _initial_from_db_defaults(self) -> None:
        """Show the database defaults on the add page: Django forms only know ``default``."""
        for name, form_field in self.fields.items():
            if name in KEY_FORM_FIELDS + HOST_KEY_FORM_FIELDS or form_field.initial is not None:
                continue
            db_default = Zone._meta.get_field(name).db_default
            if isinstance(db_default, Value):
                form_field.initial = db_default.value
            elif db_default is not NOT_PROVIDED and not hasattr(db_default, "resolve_expression"):
                form_field.initial = db_default

    def clean(self):
        cleaned = super().clean()
        self._clean_host_keys(cleaned)
        if cleaned.get("public_port") is not None and not cleaned.get("public_address"):
            self.add_error(
                "public_address",
                _("A port was given without an address; fill in the address or clear the port."),
            )
        if not self.errors:
            # The services' own rules (the pasted key, the pinned keys of a moved zone),
            # asked of the service itself so that they live in one place.
            try:
                zone_check(
                    zone=None if self.instance._state.adding else self.instance,
                    key_action=cleaned.get("key_action") or KeyAction.KEEP,
                    private_key=cleaned.get("private_key") or None,
                    **self.model_fields_data(),
                )
            except ValidationError as exc:
                self.service_error_add(exc)
        return cleaned

    def service_error_add(self, error: ValidationError) -> None:
        """Put a service's ValidationError on the fields it names (key errors on the key)."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field_name, field_errors in error.error_dict.items():
            target = _SERVICE_FIELD_TARGETS.get(field_name, field_name)
            self.add_error(target if target in self.fields else None, field_errors)

    def _clean_host_keys(self, cleaned: dict) -> None:
        """Work out ``host_keys_new``: keys pasted, or fetched and confirmed as shown."""
        action = cleaned.get("host_key_action") or HostKeyAction.KEEP
        pasted = cleaned.get("host_keys_pasted") or ""
        if action != HostKeyAction.PASTE and pasted.strip():
            self.add_error(
                "host_keys_pasted",
                _(
                    "Keys were pasted but the choice above is not 'Paste the public host "
                    "keys'. Choose it to use these keys, or leave the field empty."
                ),
            )
            return
        if action == HostKeyAction.PASTE:
            try:
                self.host_keys_new = host_keys.host_keys_normalise(pasted)
            except ValidationError as exc:
                if exc.code == "private":
                    # A private key is not shown back in the page, not even to correct it.
                    self._data_set(host_keys_pasted="")
                self.add_error("host_keys_pasted", exc)
            else:
                if not self.host_keys_new:
                    self.add_error("host_keys_pasted", host_keys.MSG_EMPTY)
                    self.host_keys_new = None
        elif action == HostKeyAction.FETCH:
            self._fetch_and_confirm(cleaned)
        elif action == HostKeyAction.CLEAR:
            self.host_keys_new = ""

    def _fetch_and_confirm(self, cleaned: dict) -> None:
        server, port = cleaned.get("server"), cleaned.get("ssh_port")
        if not server or not port:
            return  # their own errors say why
        try:
            keys = host_keys.host_keys_fetch(server=server, port=port)
        except ValidationError as exc:
            self.add_error("host_key_action", exc)
            return
        fetched = host_keys.host_keys_text(keys)
        # Compared word by word: a hidden input keeps no line breaks.
        shown = (cleaned.get("host_keys_shown") or "").split()
        if cleaned.get("host_keys_confirm") and shown == fetched.split():
            self.host_keys_new = fetched
            return
        # First look (or the server now shows other keys than the page did): show them and
        # ask for a confirmation of exactly these.
        self._data_set(host_keys_shown=fetched, host_keys_confirm=None)
        self.add_error(
            "host_keys_confirm",
            format_html(
                "{}{}{}",
                _("%(server)s, port %(port)s, shows these host keys:")
                % {"server": server, "port": port},
                format_html_join("", "<div><code>{}</code></div>", ((k.describe(),) for k in keys)),
                _(
                    "Compare them with what the storage server prints for ssh-keygen -lf "
                    "/etc/ssh/ssh_host_ed25519_key.pub (and its other .pub files); if they "
                    "match, tick the box and save again. If they do not, something else "
                    "answers at this address: do not confirm."
                ),
            ),
        )

    def _data_set(self, **values) -> None:
        """Change what the form shows when rendered again (the request's data is immutable)."""
        data = self.data.copy()
        for name, value in values.items():
            key = self.add_prefix(name)
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        self.data = data

    def model_fields_data(self) -> dict:
        """The cleaned values of the zone's own fields, as the services take them, and the
        host keys when they change."""
        data = {name: self.cleaned_data[name] for name in ZONE_FORM_FIELDS}
        if self.host_keys_new is not None:
            data["host_keys"] = self.host_keys_new
        return data
