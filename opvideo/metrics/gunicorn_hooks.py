"""gunicorn settings for the web (``--config python:opvideo.metrics.gunicorn_hooks``).

With PROMETHEUS_MULTIPROC_DIR set, each worker keeps its metrics in files there; when the
arbiter replaces a worker, prometheus-client is told so that the dead process's live gauges
are dropped (its counters and histograms are kept: the totals must not go down).
"""

import os


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
