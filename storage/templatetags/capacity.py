"""``{% capacity_attention as alerts %}``: the enabled zones whose storage needs an admin,
for the warning on every admin page (templates/admin/base_site.html)."""

from __future__ import annotations

import logging

from django import template
from django.urls import reverse
from django.utils import timezone

from ..capacity.forecast import request_zone_forecasts, zone_forecasts
from ..capacity.text import warning_lines

register = template.Library()
logger = logging.getLogger(__name__)


@register.simple_tag(takes_context=True)
def capacity_attention(context) -> list[dict]:
    """[{zone, url, lines}] of the zones to warn about, for a user who may see the zones;
    computed once per page (a few rows of the zones' snapshots and daily figures), shared
    with the dashboard on the home page."""
    user = context.get("user")
    if user is None or not user.is_active or not user.is_staff:
        return []
    if not user.has_perm("zones.view_zone"):
        return []
    now = timezone.now()
    try:
        request = context.get("request")
        forecasts = zone_forecasts() if request is None else request_zone_forecasts(request)
    except Exception:
        # The page itself may still work (or is the error page): a banner is not worth
        # breaking every admin page for.
        logger.exception("the storage forecast could not be read for the admin warning")
        return []
    alerts = []
    for forecast in forecasts:
        lines = warning_lines(forecast, now=now)
        if lines:
            url = reverse("admin:zones_zone_change", args=[forecast.zone.pk])
            alerts.append({"zone": forecast.zone.name, "url": url, "lines": lines})
    return alerts
