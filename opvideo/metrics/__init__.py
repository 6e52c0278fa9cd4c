"""``/metrics`` for Prometheus: the zones' figures read at scrape time from the small tables
(``collector``), the web processes' request counts and latencies (``middleware``), and who
may scrape (``access``). The alert rules that read them are ``docker/prometheus/alerts.yml``;
a test keeps the two in step."""
