"""The ``--limit N`` option of the zone worker's commands that work through rows in runs."""

from django.core.management.base import CommandError


def limit_option_add(parser, *, what: str) -> None:
    parser.add_argument("--limit", metavar="N", help=f"{what} at most N recordings.")


def limit_from_option(value: str | None) -> int | None:
    """None (no limit given), or the positive whole number given; CommandError otherwise."""
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise CommandError(f"--limit must be a positive whole number, not {value!r}")
    return number
