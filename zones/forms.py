"""The zone admin form: model fields plus the ssh key section.

The form only validates; saving goes through ``zones.services``. The private key textarea
is write-only: whatever was typed into it is never rendered back, not even when the form is
shown again with errors, so a key cannot end up in a page, a browser cache or a screenshot.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import NOT_PROVIDED, Value
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import ssh_keys
from .file_names import DEFAULT_FILE_NAME_PATTERN
from .models import Zone
from .services import KeyAction

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
        else:
            self.fields["key_action"].initial = KeyAction.KEEP
        # The admin marks help texts safe: the pattern's "<" must be escaped here.
        self.fields["file_name_pattern"].help_text = format_html(
            "{}<br><code>{}</code>",
            _(
                "A regular expression searched in each recording's file name, with the groups "
                "session_id (required) and project_id (optional). Empty: the standard one,"
            ),
            DEFAULT_FILE_NAME_PATTERN,
        )

    def _initial_from_db_defaults(self) -> None:
        """Show the database defaults on the add page: Django forms only know ``default``."""
        for name, form_field in self.fields.items():
            if name in KEY_FORM_FIELDS or form_field.initial is not None:
                continue
            db_default = Zone._meta.get_field(name).db_default
            if isinstance(db_default, Value):
                form_field.initial = db_default.value
            elif db_default is not NOT_PROVIDED and not hasattr(db_default, "resolve_expression"):
                form_field.initial = db_default

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("key_action")
        private_key = cleaned.get("private_key") or ""
        if action == KeyAction.PASTE:
            try:
                ssh_keys.key_load(private_key=private_key)
            except ValidationError as exc:
                self.add_error("private_key", exc)
        elif private_key.strip():
            self.add_error(
                "private_key",
                _(
                    "A key was pasted but the choice above is not 'Paste a private key'. "
                    "Choose it to use this key, or leave the field empty."
                ),
            )
        if cleaned.get("public_port") is not None and not cleaned.get("public_address"):
            self.add_error(
                "public_address",
                _("A port was given without an address; fill in the address or clear the port."),
            )
        return cleaned

    def model_fields_data(self) -> dict:
        """The cleaned values of the zone's own fields, as the services take them."""
        return {name: self.cleaned_data[name] for name in ZONE_FORM_FIELDS}
