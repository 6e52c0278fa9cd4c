"""Forms of the search service. Every field is checked before a query is built, so no
input reaches the database unvalidated and a bad value is a form error, never a 500."""

import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from zones.models import Zone

from .moments import moment_parse
from .selectors import VideoFilters
from .session_ids import PREFIX_MIN_LENGTH

# Naumen session ids: node_0_domain_0_nauss_0_1629126106_172352. Letters, digits and a
# few separators; anything else (spaces, quotes, markup) cannot be one.
SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,49}\Z")
PROJECT_ID = re.compile(r"^[A-Za-z0-9]{1,40}\Z")
MAX_RANGE_DAYS = 366


class SearchForm(forms.Form):
    session = forms.CharField(
        label=_("Session id"),
        required=False,
        max_length=200,
        strip=True,
        widget=forms.TextInput(
            attrs={"placeholder": "node_0_domain_0_nauss_0_…", "autofocus": True, "size": 48}
        ),
    )
    # Blank: a whole id, and on the page its beginning if no id is equal to it; "prefix":
    # its beginning; "exact": only the id equal to it.
    match = forms.ChoiceField(
        required=False,
        choices=[("", ""), ("exact", _("whole id")), ("prefix", _("beginning of the id"))],
    )
    project = forms.CharField(label=_("Project id"), required=False, max_length=200, strip=True)
    date_from = forms.DateField(
        label=_("Recorded from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    zone = forms.ModelChoiceField(
        label=_("Zone"),
        required=False,
        queryset=Zone.objects.only("id", "name").order_by("name"),
        empty_label=_("all zones"),
        to_field_name="name",
    )

    def clean_session(self) -> str:
        value = self.cleaned_data["session"]
        if value and not SESSION_ID.match(value):
            raise ValidationError(
                _("This is not a session id: it may hold only Latin letters, digits and _ . : -")
            )
        if value and len(value) < PREFIX_MIN_LENGTH:
            raise ValidationError(
                _(
                    "Too short to search by: enter the whole session id or at least its "
                    "first %(count)d characters."
                ),
                params={"count": PREFIX_MIN_LENGTH},
            )
        return value

    def clean_project(self) -> str:
        value = self.cleaned_data["project"]
        if value and not PROJECT_ID.match(value):
            raise ValidationError(_("A project id holds only Latin letters and digits."))
        return value.lower()

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if start > end:
                raise ValidationError(_("The start date is after the end date."))
            if (end - start).days > MAX_RANGE_DAYS and not (
                data.get("session") or data.get("project")
            ):
                raise ValidationError(_("Choose at most a year, or add a session or project id."))
        # Only once every field is valid: an empty search is not worth saying beside a bad value.
        if not self.errors and self.filters().is_empty():
            raise ValidationError(_("Enter a session id, a project id or a date range."))
        return data

    def filters(self) -> VideoFilters:
        data = self.cleaned_data
        return VideoFilters(
            session_id=data.get("session") or "",
            project_id=data.get("project") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            zone=data.get("zone"),
            session_prefix=data.get("match") == "prefix",
        )

    def exact_only(self) -> bool:
        """Whether the session id was asked for as a whole id only (``match=exact``)."""
        return self.cleaned_data.get("match") == "exact"


class LoginForm(AuthenticationForm):
    """The login form, telling a directory outage apart from a wrong password."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "directory_down": _(
            "The directory (Active Directory) does not answer, so your password cannot be "
            "checked now. Try again in a few minutes or call the help desk."
        ),
    }

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            if getattr(self.request, "opvideo_directory_error", False):
                raise ValidationError(
                    self.error_messages["directory_down"], code="directory_down"
                ) from None
            raise


class HoldForm(forms.Form):
    """Place or lift a hold. Lifting lets the purge delete the recording at its retention
    date, so it needs an explicit confirmation besides its reason (the service asks a reason
    of both)."""

    hold = forms.TypedChoiceField(
        choices=[("1", _("place")), ("0", _("lift"))], coerce=lambda v: v == "1"
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=255, strip=True)
    confirm = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if data.get("hold") is False and not data.get("confirm"):
            self.add_error(
                "confirm",
                _("Confirm that the recording may be deleted once the hold is lifted."),
            )
        return data


MOMENT_FORMAT_HINT = _("Give the moment as minutes:seconds, e.g. 1:23.")


class NoteForm(forms.Form):
    """A note at a moment: ``at`` as the player gives it (seconds) or as a person types it
    (``1:23``, ``1:02:03``). The service checks the moment against the recording."""

    at = forms.CharField(
        label=_("Moment"),
        max_length=20,
        strip=True,
        error_messages={"required": MOMENT_FORMAT_HINT},
    )
    # Not required and no length here: the service says what is wrong with a text, in the
    # same words for the page, the player and a script.
    text = forms.CharField(label=_("Note"), required=False, strip=False, widget=forms.Textarea)

    def clean_at(self) -> float:
        seconds = moment_parse(self.cleaned_data["at"])
        if seconds is None:
            raise ValidationError(MOMENT_FORMAT_HINT)
        return seconds
