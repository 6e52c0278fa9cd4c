"""``{% admin_dashboard %}``: the dashboard above the admin's app list.

A template tag rather than the admin site's ``index`` context, so the admin site itself
(whose app list another part of the project regroups) stays untouched. Registered in
TEMPLATES' ``libraries`` as ``opvideo_dashboard``.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import urlencode

from django import template
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from storage.capacity.forecast import request_zone_forecasts
from storage.capacity.text import forecast_lines, stale_line

from . import formats
from .data import FAILING, OK, QUIET, Dashboard, ZoneBoard, dashboard_read, history_read
from .svg import disk_plot, health_bar, ingest_plot

register = template.Library()

STALE = timedelta(hours=26)  # a daily job not heard from for longer has missed a day
PLOTS_KEPT = 2 * 3600  # seconds; a new version (an hourly write) makes a new key anyway


@register.inclusion_tag("admin/dashboard.html", takes_context=True)
def admin_dashboard(context):
    f = formats.current()
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_staff:
        return {"board": None}
    now = timezone.now()
    board = dashboard_read(user=user, now=now, forecasts=request_zone_forecasts(request))
    plots = _plots(board)
    return {
        "board": board,
        "rows": [
            _row(zone, board=board, now=now, plots=plots[zone.zone.pk]) for zone in board.zones
        ],
        "first_day": f.day(board.first_day),
        "today": f.day(board.today),
    }


def _plots(board: Dashboard) -> dict[int, dict]:
    """Each zone's two plots and its totals, rendered once per version of its history.

    The history (ZoneDay, StorageSnapshot) changes when the zone's worker writes, once an
    hour; rendering twenty zones' plots and tables on every visit of the admin home would
    be most of the page's time. A key names the zone, the language and the history's
    version (dashboard.data), so a write or a new day shows at once.
    """
    language = get_language()
    keys = {
        zone.zone.pk: "dashboard-plots:"
        + hashlib.sha256(
            repr((language, zone.zone.pk, zone.zone.name, zone.history_version)).encode()
        ).hexdigest()
        for zone in board.zones
    }
    found = cache.get_many(list(keys.values()))
    plots = {pk: found[key] for pk, key in keys.items() if key in found}
    missing = [zone for zone in board.zones if zone.zone.pk not in plots]
    history_read(board, missing)
    made = {}
    for zone in missing:
        plots[zone.zone.pk] = made[keys[zone.zone.pk]] = _plots_render(zone, board=board)
    if made:
        cache.set_many(made, timeout=PLOTS_KEPT)
    return plots


def _plots_render(zone: ZoneBoard, *, board: Dashboard) -> dict:
    f = formats.current()
    pk, name = zone.zone.pk, zone.zone.name
    return {
        "ingest": ingest_plot(zone.days, ident=f"dash-in-{pk}", zone=name),
        "disk": disk_plot(
            zone.disk, zone.forecast, today=board.today, ident=f"dash-disk-{pk}", zone=name
        ),
        "received": zone.received_total,
        "totals": ngettext(
            "%(count)s, %(bytes)s in %(days)s day",
            "%(count)s, %(bytes)s in %(days)s days",
            len(zone.days),
        )
        % {
            "count": ngettext("%(n)s recording", "%(n)s recordings", zone.received_total)
            % {"n": f.number(zone.received_total)},
            "bytes": f.size(zone.received_bytes_total),
            "days": len(zone.days),
        },
    }


def _row(zone: ZoneBoard, *, board, now, plots: dict) -> dict:
    pk, name = zone.zone.pk, zone.zone.name
    row = {
        "name": name,
        "url": reverse("admin:zones_zone_change", args=[pk]),
        **plots,
    }
    row.update(_disk_cell(zone))
    if board.workstations:
        row["health"] = _health_cell(zone, pk=pk)
        row["waiting"] = _waiting_cell(zone, pk=pk)
    if board.purges:
        row["purge"] = _purge_cell(zone, now=now)
    if board.integrity or board.recordings:
        row["integrity"] = _integrity_cell(zone, now=now, findings=board.integrity)
    return row


def _workstations_url(**params) -> str:
    return f"{reverse('admin:client_agent_workstation_changelist')}?{urlencode(params)}"


def _health_cell(zone: ZoneBoard, *, pk: int) -> dict:
    f = formats.current()
    health = zone.health or {}
    words = {
        OK: ngettext("%(n)s ok", "%(n)s ok", health.get(OK, 0)),
        QUIET: ngettext("%(n)s quiet", "%(n)s quiet", health.get(QUIET, 0)),
        FAILING: ngettext("%(n)s failing", "%(n)s failing", health.get(FAILING, 0)),
    }
    links = [
        {
            "state": state,
            "count": health.get(state, 0),
            "text": words[state] % {"n": f.number(health.get(state, 0))},
            "url": _workstations_url(zone__id__exact=pk, health=state),
        }
        for state in (OK, QUIET, FAILING)
    ]
    label = ", ".join(link["text"] for link in links)
    return {
        "links": links,
        "bar": health_bar(health, ident=f"dash-ws-{pk}", label=label),
    }


def _waiting_cell(zone: ZoneBoard, *, pk: int) -> dict:
    f = formats.current()
    if not zone.waiting:
        return {"text": _("nothing waiting"), "state": "ok"}
    return {
        "text": ngettext(
            "%(n)s recording %(hosts)s",
            "%(n)s recordings %(hosts)s",
            zone.waiting,
        )
        % {
            "n": f.number(zone.waiting),
            "hosts": ngettext("on %(n)s workstation", "on %(n)s workstations", zone.waiting_hosts)
            % {"n": f.number(zone.waiting_hosts)},
        },
        "state": "warn",
        "url": f"{reverse('admin:client_agent_workstation_changelist')}?"
        + urlencode({"zone__id__exact": pk, "o": "6"}),
    }


def _purge_cell(zone: ZoneBoard, *, now) -> dict:
    f = formats.current()
    run = zone.purge
    if run is None:
        return {"state": "none", "status": _("no purge has run yet")}
    trouble = run.failed or run.refused or run.differs
    if run.status in ("failed", "interrupted"):
        state = "bad"
    elif run.status == "running":
        state = "info"
    elif trouble or now - run.started_at > STALE:
        state = "warn"
    else:
        state = "ok"
    counts = _("deleted %(deleted)s, failed %(failed)s, refused %(refused)s") % {
        "deleted": f.number(run.deleted),
        "failed": f.number(run.failed),
        "refused": f.number(run.refused),
    }
    return {
        "state": state,
        "when": f.moment(run.started_at),
        "status": run.get_status_display(),
        "counts": counts,
        "freed": _("%(size)s freed") % {"size": f.size(run.bytes_freed)},
        "url": reverse("admin:storage_purgerun_change", args=[run.pk]),
    }


def _integrity_cell(zone: ZoneBoard, *, now, findings: bool) -> dict:
    f = formats.current()
    checked = zone.checked_at
    cell = {"when": f.moment(checked) if checked else _("not checked yet")}
    if findings:
        n = zone.findings or 0
        cell["findings"] = ngettext("%(n)s finding in 7 days", "%(n)s findings in 7 days", n) % {
            "n": f.number(n)
        }
        cell["findings_url"] = (
            f"{reverse('admin:storage_integrityfinding_changelist')}?"
            + urlencode({"zone_name": zone.zone.name})
        )
    if zone.findings:
        cell["state"] = "bad"
    elif checked is None:
        cell["state"] = "none"
    elif now - checked > STALE:
        cell["state"] = "warn"
    else:
        cell["state"] = "ok"
    return cell


def _disk_cell(zone: ZoneBoard) -> dict:
    f = formats.current()
    forecast = zone.forecast
    snap = forecast.snapshot
    fits = forecast.retention_fits
    days = zone.zone.retention_days
    if fits is None:
        short = _("retention: not known yet")
    else:
        values = {
            "days": f.number(days),
            "need": f.size(forecast.retention_bytes),
            "room": f.size(forecast.room_bytes),
        }
        short = (
            ngettext("%(days)s day of retention fits", "%(days)s days of retention fit", days)
            if fits
            else ngettext(
                "%(days)s day of retention does not fit: needs %(need)s, has %(room)s",
                "%(days)s days of retention do not fit: needs %(need)s, has %(room)s",
                days,
            )
        ) % values
    stale = stale_line(forecast) if snap else None
    if snap is None:
        state = "none"
    elif forecast.warning:
        state = "bad"
    elif stale:
        state = "warn"
    else:
        state = "ok"
    return {
        "disk_state": state,
        "disk_free": (
            _("%(free)s free of %(total)s")
            % {"free": f.size(snap.free_bytes), "total": f.size(snap.total_bytes)}
            if snap
            else _("no snapshot yet")
        ),
        # The sentences (storage.capacity.text), shared with the API and the admin warning.
        "disk_lines": [*forecast_lines(forecast), *filter(None, [stale_line(forecast)])],
        "disk_short": _disk_short(forecast) if snap else "",
        "retention_short": short,
        "disk_stale": stale,
        "retention_fits": fits,
    }


def _disk_short(forecast) -> str:
    """The table's few words on when the disk is full (the plot's caption has the sentence)."""
    f = formats.current()
    days = forecast.days_to_full
    if forecast.growth_per_day is None:
        return _("no forecast yet")
    if days is None:
        return _("not filling up")
    if forecast.full_on is None:
        return _("full in more than a hundred years")
    whole = max(int(days), 0)
    return ngettext("full in %(n)s day (%(date)s)", "full in %(n)s days (%(date)s)", whole) % {
        "n": f.number(whole),
        "date": f.day(forecast.full_on, year=True),
    }
