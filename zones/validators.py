"""Validators for the CONFIG columns.

Paths end up inside an ``authorized_keys`` forced command and an rsync command line, so
they are held to a conservative character set rather than escaped later.
"""

import re

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

zone_name_validator = RegexValidator(
    r"^[a-z0-9]+(?:[-_][a-z0-9]+)*\Z",
    _("Use lower-case Latin letters, digits, '-' and '_' (for example: kursk, zone-test)."),
)

# POSIX portable user name (useradd's default rule), at most 10 characters (the seed column).
posix_user_validator = RegexValidator(
    r"^[a-z_][a-z0-9_-]{0,9}\Z",
    _("A user name starts with a lower-case letter or '_' and holds only a-z, 0-9, '_', '-'."),
)

absolute_path_validator = RegexValidator(
    r"^/(?:[A-Za-z0-9._@+-]+/?)*\Z",
    _("An absolute path made of Latin letters, digits and . _ @ + - (for example /srv/video)."),
)

extension_validator = RegexValidator(
    r"^[A-Za-z0-9]{1,5}\Z", _("Letters and digits only, without the dot (for example mp4).")
)

hostname_validator = RegexValidator(
    r"^(?=.{1,253}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?\Z",
    _("A host name or IPv4 address (for example docker5.kursk.example.ru)."),
)


def path_has_no_dot_segments(value: str) -> None:
    from django.core.exceptions import ValidationError

    if any(part in {".", ".."} for part in value.split("/")):
        raise ValidationError(_("The path must not contain '.' or '..' segments."))


def normalise_dir(value: str) -> str:
    """Strip a trailing slash (except for '/') so paths compare and join predictably."""
    return re.sub(r"(?<=.)/+\Z", "", value)
