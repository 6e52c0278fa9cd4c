"""The one error adoption raises; the command turns it into a CommandError."""


class AdoptionError(Exception):
    """The database cannot be adopted as it is; the message says why, in one line."""
