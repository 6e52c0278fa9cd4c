"""The zones' figures for Prometheus, read at scrape time from the small tables.

Every value comes from CONFIG, ZONE_DAY, STORAGE_SNAPSHOT, WORKSTATION, the purge runs and
the integrity findings, plus two per-zone MAX over VIDEO's (ZONE_ID, ...) indexes (the last
arrival, the last integrity check), which the server answers from the index alone: a scrape
costs the same with 1 or 100 million recordings. Only enabled zones are exported.

Ages are seconds until the scrape; a zone that never had a purge or an integrity check counts
from its creation, so a new zone alerts only once it has been left without them too long.
``opvideo_zone_storage_days_to_full`` is +Inf when the disk does not fill at the current rate,
and absent while nothing is known (no snapshot or no day of figures yet).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db.models import Count, Max, Sum
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from client_agent.health import STATES, health_counts
from client_agent.models import Workstation
from storage.capacity.forecast import ZoneForecast, zone_forecasts
from storage.models import IntegrityFinding, PurgeRun, Video, ZoneDay
from zones.selectors import zone_list

PURGE_RESULTS = ("deleted", "missing", "refused", "failed", "differs")


def _gauge(name: str, doc: str, labels=("zone",)) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


def _since(now: datetime, then: datetime) -> float:
    return max((now - then).total_seconds(), 0.0)


def _latest_purges(ids: list[int]) -> dict[int, PurgeRun]:
    newest = (
        PurgeRun.objects.filter(zone_id__in=ids)
        .values("zone_id")
        .annotate(at=Max("started_at"))
        .order_by()
    )
    pairs = {(row["zone_id"], row["at"]) for row in newest}
    if not pairs:
        return {}
    rows = PurgeRun.objects.filter(
        zone_id__in={zone for zone, _ in pairs}, started_at__in={at for _, at in pairs}
    ).order_by("started_at", "id")
    # Two runs started in the same instant: the later row wins, as in the admin's order.
    return {row.zone_id: row for row in rows if (row.zone_id, row.started_at) in pairs}


def _per_zone_query(queryset, field: str, aggregate):
    return queryset.values("zone_id").annotate(value=aggregate(field)).order_by()


def _per_zone(queryset, field: str, aggregate) -> dict[int, object]:
    return {row["zone_id"]: row["value"] for row in _per_zone_query(queryset, field, aggregate)}


def video_newest(ids: list[int], field: str):
    """Each zone's newest ``field`` (registered_at, integrity_checked_at) in VIDEO: a GROUP
    BY the server answers from the (ZONE_ID, field) index, one index entry per zone."""
    return _per_zone_query(Video.objects.filter(zone_id__in=ids), field, Max)


class ZoneCollector:
    """A prometheus-client custom collector: each ``collect()`` reads the tables anew."""

    def describe(self) -> list[Metric]:
        # Nothing at registration: describing would mean querying the database.
        return []

    def collect(self) -> Iterator[Metric]:
        started = time.monotonic()
        now = timezone.now()
        today = timezone.localdate(now)
        # Never the secrets: a scrape must not decrypt keys (nor fail when they do not fit).
        zones = list(zone_list(enabled=True).order_by("name"))
        ids = [zone.pk for zone in zones]
        yield from self._ingest(zones, ids, now=now, today=today)
        yield from self._workstations(zones, ids, now=now)
        yield from self._storage(zones, zone_forecasts(zones, today=today), now=now)
        yield from self._purge(zones, ids, now=now)
        yield from self._integrity(zones, ids, now=now)
        took = _gauge(
            "opvideo_metrics_collect_seconds", "Seconds this scrape took to read the zones.", ()
        )
        took.add_metric([], time.monotonic() - started)
        yield took

    def _ingest(self, zones, ids, *, now, today) -> Iterator[Metric]:
        retention = _gauge("opvideo_zone_retention_days", "The zone's retention, days.")
        recordings = _gauge(
            "opvideo_zone_received_recordings",
            "Recordings registered on the local day (ZONE_DAY, rolled up hourly).",
            ("zone", "day"),
        )
        received_bytes = _gauge(
            "opvideo_zone_received_bytes",
            "Bytes of the recordings registered on the local day (ZONE_DAY).",
            ("zone", "day"),
        )
        last = _gauge(
            "opvideo_zone_last_received_age_seconds",
            "Seconds since the zone's newest recording was registered (since the zone was "
            "created if none was).",
        )
        days = {today: "today", today - timedelta(days=1): "yesterday"}
        figures = {
            (row.zone_id, row.day): row
            for row in ZoneDay.objects.filter(zone_id__in=ids, day__in=list(days))
        }
        newest = {row["zone_id"]: row["value"] for row in video_newest(ids, "registered_at")}
        for zone in zones:
            retention.add_metric([zone.name], zone.retention_days)
            for day, label in days.items():
                row = figures.get((zone.pk, day))
                recordings.add_metric([zone.name, label], row.received if row else 0)
                received_bytes.add_metric([zone.name, label], row.received_bytes if row else 0)
            last.add_metric([zone.name], _since(now, newest.get(zone.pk) or zone.created_at))
        yield from (retention, recordings, received_bytes, last)

    def _workstations(self, zones, ids, *, now) -> Iterator[Metric]:
        states = _gauge(
            "opvideo_zone_workstations",
            "Workstations of the zone by health: ok, quiet (no heartbeat), failing (reports, "
            "does not deliver).",
            ("zone", "state"),
        )
        waiting = _gauge(
            "opvideo_zone_waiting_recordings",
            "Recordings waiting on the zone's workstations to be sent (their last report).",
        )
        orphans = _gauge(
            "opvideo_workstations_without_zone",
            "Workstations whose zone is not in CONFIG, by health.",
            ("state",),
        )
        counts = health_counts(now=now)
        pending = _per_zone(Workstation.objects.all(), "pending_count", Sum)
        for zone in zones:
            for state in STATES:
                states.add_metric([zone.name, state], counts.get(zone.pk, {}).get(state, 0))
            waiting.add_metric([zone.name], pending.get(zone.pk) or 0)
        for state in STATES:
            orphans.add_metric([state], counts.get(None, {}).get(state, 0))
        yield from (states, waiting, orphans)

    def _storage(self, zones, forecasts: list[ZoneForecast], *, now) -> Iterator[Metric]:
        snap = {
            "total": _gauge("opvideo_zone_storage_total_bytes", "Size of PATH_DST's disk."),
            "used": _gauge("opvideo_zone_storage_used_bytes", "Bytes used on PATH_DST's disk."),
            "free": _gauge("opvideo_zone_storage_free_bytes", "Bytes free on PATH_DST's disk."),
            "files": _gauge("opvideo_zone_storage_files", "Recordings' files in PATH_DST."),
            "file_bytes": _gauge(
                "opvideo_zone_storage_files_bytes", "Bytes of the recordings' files in PATH_DST."
            ),
            "age": _gauge(
                "opvideo_zone_storage_snapshot_age_seconds",
                "Seconds since the zone worker's last snapshot of PATH_DST (hourly).",
            ),
            "oldest": _gauge(
                "opvideo_zone_storage_oldest_recording_age_seconds",
                "Seconds since the start (local midnight) of the oldest recording's day on "
                "disk, at the last snapshot.",
            ),
        }
        ingest = _gauge(
            "opvideo_zone_ingest_bytes_per_day",
            "Mean bytes received a day over the forecast's window of complete days.",
        )
        growth = _gauge(
            "opvideo_zone_growth_bytes_per_day",
            "Mean net growth a day (received less purged) over the forecast's window.",
        )
        days_to_full = _gauge(
            "opvideo_zone_storage_days_to_full",
            "Days until PATH_DST's disk is full at the current growth; +Inf: it does not grow.",
        )
        fits = _gauge(
            "opvideo_zone_retention_fits",
            "1 when the zone's retention at the current ingest fits on the disk, else 0.",
        )
        needed = _gauge(
            "opvideo_zone_retention_needed_bytes",
            "Bytes keeping the zone's retention takes at the current ingest.",
        )
        room = _gauge(
            "opvideo_zone_storage_room_bytes",
            "Bytes the disk can give the recordings (its size less what else is on it).",
        )
        warning = _gauge(
            "opvideo_zone_capacity_warning",
            "1 when the admin pages warn about the zone's storage (fills within "
            "OPVIDEO_CAPACITY_WARN_DAYS, or retention does not fit).",
        )
        for forecast in forecasts:
            name = [forecast.zone.name]
            snapshot = forecast.snapshot
            if snapshot is not None:
                snap["total"].add_metric(name, snapshot.total_bytes)
                snap["used"].add_metric(name, snapshot.used_bytes)
                snap["free"].add_metric(name, snapshot.free_bytes)
                snap["files"].add_metric(name, snapshot.file_count)
                snap["file_bytes"].add_metric(name, snapshot.file_bytes)
                snap["age"].add_metric(name, _since(now, snapshot.taken_at))
                if snapshot.oldest_recording is not None:
                    midnight = timezone.make_aware(
                        datetime.combine(snapshot.oldest_recording, datetime.min.time())
                    )
                    snap["oldest"].add_metric(name, _since(now, midnight))
            if forecast.ingest_per_day is not None:
                ingest.add_metric(name, forecast.ingest_per_day)
                growth.add_metric(name, forecast.growth_per_day)
                needed.add_metric(name, forecast.retention_bytes)
                if snapshot is not None:
                    days = forecast.days_to_full
                    days_to_full.add_metric(name, math.inf if days is None else days)
            if forecast.room_bytes is not None:
                room.add_metric(name, forecast.room_bytes)
            if forecast.retention_fits is not None:
                fits.add_metric(name, 1 if forecast.retention_fits else 0)
            warning.add_metric(name, 1 if forecast.warning else 0)
        yield from snap.values()
        yield from (ingest, growth, days_to_full, fits, needed, room, warning)

    def _purge(self, zones, ids, *, now) -> Iterator[Metric]:
        status = _gauge(
            "opvideo_zone_purge_last_status",
            "1 for the status of the zone's last purge run (running, finished, failed, "
            "interrupted), 0 for the others.",
            ("zone", "status"),
        )
        files = _gauge(
            "opvideo_zone_purge_last_files",
            "Files of the zone's last purge run by result: deleted, missing (already gone), "
            "refused (outside PATH_DST), failed (kept, tried again), differs (not its row).",
            ("zone", "result"),
        )
        freed = _gauge("opvideo_zone_purge_last_freed_bytes", "Bytes the last purge run freed.")
        age = _gauge(
            "opvideo_zone_purge_last_age_seconds",
            "Seconds since the zone's last purge run ended (since it started while it runs).",
        )
        success = _gauge(
            "opvideo_zone_purge_last_success_age_seconds",
            "Seconds since a purge run of the zone last finished (since the zone was created "
            "if none has).",
        )
        refused = CounterMetricFamily(
            "opvideo_zone_purge_refused",
            "Files any purge run of the zone refused to touch (names reaching outside "
            "PATH_DST), over the kept history of runs.",
            labels=["zone"],
        )
        latest = _latest_purges(ids)
        finished = _per_zone(
            PurgeRun.objects.filter(zone_id__in=ids, status=PurgeRun.Status.FINISHED),
            "finished_at",
            Max,
        )
        refusals = _per_zone(PurgeRun.objects.filter(zone_id__in=ids), "refused", Sum)
        for zone in zones:
            name = [zone.name]
            run = latest.get(zone.pk)
            if run is not None:
                for value in PurgeRun.Status.values:
                    status.add_metric([zone.name, value], 1 if run.status == value else 0)
                for result in PURGE_RESULTS:
                    files.add_metric([zone.name, result], getattr(run, result))
                freed.add_metric(name, run.bytes_freed)
                age.add_metric(name, _since(now, run.finished_at or run.started_at))
            success.add_metric(name, _since(now, finished.get(zone.pk) or zone.created_at))
            refused.add_metric(name, refusals.get(zone.pk) or 0)
        yield from (status, files, freed, age, success, refused)

    def _integrity(self, zones, ids, *, now) -> Iterator[Metric]:
        checked = _gauge(
            "opvideo_zone_integrity_last_check_age_seconds",
            "Seconds since the integrity check last read one of the zone's recordings (since "
            "the zone was created if it never did).",
        )
        findings = _gauge(
            "opvideo_zone_integrity_findings",
            "Integrity findings recorded for the zone, by kind (kept until a person deletes them).",
            ("zone", "kind"),
        )
        last = _gauge(
            "opvideo_zone_integrity_last_finding_age_seconds",
            "Seconds since the zone's newest integrity finding (absent: none).",
        )
        newest_check = _per_zone(Video.objects.filter(zone_id__in=ids), "integrity_checked_at", Max)
        counts: dict[int, dict[str, int]] = defaultdict(dict)
        newest_finding: dict[int, datetime] = {}
        rows = (
            IntegrityFinding.objects.filter(zone_id__in=ids)
            .values("zone_id", "kind")
            .annotate(n=Count("pk"), at=Max("found_at"))
            .order_by()
        )
        for row in rows:
            counts[row["zone_id"]][row["kind"]] = row["n"]
            at = newest_finding.get(row["zone_id"])
            newest_finding[row["zone_id"]] = row["at"] if at is None else max(at, row["at"])
        for zone in zones:
            name = [zone.name]
            checked.add_metric(name, _since(now, newest_check.get(zone.pk) or zone.created_at))
            for kind in IntegrityFinding.Kind.values:
                findings.add_metric([zone.name, kind], counts[zone.pk].get(kind, 0))
            if zone.pk in newest_finding:
                last.add_metric(name, _since(now, newest_finding[zone.pk]))
        yield from (checked, findings, last)
