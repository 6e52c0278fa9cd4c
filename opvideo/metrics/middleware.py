"""Each request's count and latency, by view, method and status, for ``/metrics``.

First in MIDDLEWARE, so the time includes every other middleware. It also answers
``/metrics`` itself, before SecurityMiddleware and CommonMiddleware: Prometheus scrapes each
gunicorn by its address over the internal network, in plain HTTP, with that address as its
Host, so the site's https redirect and ALLOWED_HOSTS (which guard pages whose links carry
the host) would refuse it; the endpoint's own token and allow-list guard it instead.
"""

from __future__ import annotations

import time

from django.conf import settings
from prometheus_client import Histogram

from .views import METRICS_PATH, metrics

# Under gunicorn with PROMETHEUS_MULTIPROC_DIR set, prometheus-client keeps this in a file
# per process and /metrics sums them (views.scrape_registry).
REQUESTS = Histogram(
    "opvideo_http_request_duration_seconds",
    "Requests this web service answered, by view, method and status, and their latency.",
    ["view", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
STATIC_PREFIX = "/" + settings.STATIC_URL.lstrip("/")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def view_label(request) -> str:
    """The URL pattern's name (a bounded set), never the path (ids, session ids)."""
    if request.path_info == METRICS_PATH:
        return "metrics"
    match = getattr(request, "resolver_match", None)
    if match is None:
        # whitenoise answers static files before the URL resolver runs.
        if request.path_info.startswith(STATIC_PREFIX):
            return "static"
        return "unresolved"
    return match.view_name or match._func_path


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        if request.path_info == METRICS_PATH:
            response = metrics(request)
        else:
            response = self.get_response(request)
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(view_label(request), method, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response
