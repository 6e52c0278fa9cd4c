"""``/metrics``: the Prometheus exposition, to whoever ``access`` lets in.

Without PROMETHEUS_MULTIPROC_DIR this process's own registry (request histogram, process
and Python figures) is exported; with it (gunicorn with several workers), prometheus-client
sums every worker's files instead, so a scrape that lands on any worker sees them all. The
zones' figures are read anew on every scrape either way.
"""

from __future__ import annotations

import os

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from .access import Access, scrape_access
from .collector import ZoneCollector

METRICS_PATH = "/metrics"


class _ProcessCollector:
    """This process's default registry (its request histogram, process and GC figures)
    within the scrape's registry."""

    def collect(self):
        yield from REGISTRY.collect()


def scrape_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ProcessCollector())
    registry.register(ZoneCollector())
    return registry


def _plain(text: str, status: int) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def metrics(request: HttpRequest) -> HttpResponse:
    access = scrape_access(request)
    if access == Access.CLOSED:
        return _plain("not found\n", 404)
    if access != Access.ALLOWED:
        return _plain("forbidden\n", 403)
    if request.method not in ("GET", "HEAD"):
        response = _plain("method not allowed\n", 405)
        response["Allow"] = "GET, HEAD"
        return response
    encoder, content_type = choose_encoder(request.META.get("HTTP_ACCEPT", ""))
    try:
        body = encoder(scrape_registry())
    except DatabaseError:
        # A failed scrape (Prometheus's `up` is 0, OPVideoMetricsDown) rather than a page.
        return _plain("database unavailable\n", 503)
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response
