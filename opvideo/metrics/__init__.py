"""``/metrics`` for Prometheus: the zones' figures read at scrape time from the small tables
(``collector``), the web processes' request counts and latencies (``middleware``), and who
may scrape (``access``). The alert rules that read them are ``docker/prometheus/alerts.yml``;
a test keeps the two in step."""

import os

# prometheus-client turns its multiprocess mode on when the variable merely exists; an empty
# one (a settings file's blank line) would have it write its files into the working
# directory. Empty means unset.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip():
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
