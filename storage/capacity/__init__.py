"""How full each zone's storage is and how fast it fills.

``snapshot``: what the zone's worker records every hour on the storage server (the disk of
PATH_DST, and the roll-up of the zone's last days into ``ZoneDay``). ``forecast``: what the
dashboard, the API, the metrics and the admin warning compute from those rows.
"""
