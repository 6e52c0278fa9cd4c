"""The dashboard on the admin home: how each zone is doing, at a glance.

``data`` reads the few aggregate rows it needs (ZoneDay, StorageSnapshot, PurgeRun,
IntegrityFinding, Workstation, and one index-only MAX over VIDEO per zone): the page costs
the same with a thousand recordings or ten million. ``svg`` draws the plots on the server
(the intranet has no internet, so no charting library from a CDN) with a table beside each
for screen readers; ``formats`` writes numbers, bytes and dates the Russian way;
``templatetags`` puts it all above the admin's app list.
"""
