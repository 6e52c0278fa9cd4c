"""The ``--zone NAME`` option every per-zone command takes, and its one error."""

from django.core.management.base import CommandError
from django.db.models import QuerySet

from zones.models import Zone


def zone_option_add(parser) -> None:
    parser.add_argument("--zone", required=True, help="zone name (CONFIG.ZONE)")


def zone_from_option(name: str, *, queryset: QuerySet[Zone] | None = None) -> Zone:
    """The zone called ``name`` from ``queryset`` (a command may load fewer columns, e.g. to
    work without the field-encryption keys), or CommandError."""
    zones = queryset if queryset is not None else Zone.objects.all()
    zone = zones.filter(name=name).first()
    if zone is None:
        raise CommandError(f"no zone named {name!r}")
    return zone
