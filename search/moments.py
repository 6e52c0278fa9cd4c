"""A moment of a recording as people write it: ``1:23``, ``1:02:03`` or plain seconds.

The player, the notes and the audit all name moments; they read and write them the same way
here, so a moment typed into a note's field is the one its audit row and its link show.
"""

import math
import re

_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:[.,]\d+)?)\Z")
_SECONDS = re.compile(r"^\d+(?:[.,]\d+)?\Z")
# No recording is a day long: a larger moment is a mistyped or forged link (400 nines would
# be an infinite float, and break every sum made with it).
MOMENT_MAX = 24 * 3600


def moment_format(seconds: float) -> str:
    """``83.4`` as ``1:23``, ``3723`` as ``1:02:03``: whole seconds, rounded down as the
    player's clock shows them."""
    whole = max(0, math.floor(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def moment_parse(text: str) -> float | None:
    """Seconds from ``1:23``, ``1:02:03``, ``83`` or ``83.5`` (a decimal comma too); None
    when the text is none of these, or names a moment past ``MOMENT_MAX``. A negative number
    is none of these either."""
    value = _moment_read(text.strip())
    if value is None or not math.isfinite(value) or value > MOMENT_MAX:
        return None
    return value


def _moment_read(text: str) -> float | None:
    if _SECONDS.match(text):
        return float(text.replace(",", "."))
    match = _CLOCK.match(text)
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    if int(minutes) >= 60 or float(seconds.replace(",", ".")) >= 60:
        return None
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds.replace(",", "."))
