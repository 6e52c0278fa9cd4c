"""Bring a database the old system filled (tables CONFIG and VIDEO) under this project's migrations.

Sites already run the old system, so their database cannot be recreated: the tables are
changed in place until they are exactly what ``migrate`` creates for ``zones.0001_initial``
and ``storage.0001_initial`` on an empty database, and those two migrations are then recorded
as applied so that ``migrate`` carries on from there.

Split by phase, the way Django splits its migration machinery:

- ``schema``: what the old tables are, and reading a live table;
- ``target``: what they must become (from the historical models), and how a table differs;
- ``rules``: how the old clients' values are cleaned (SPEED, PUBLIC_PORT, STORAGE_DAYS, zone
  names, missing zones, duplicate rows);
- ``planner``: the steps still to do, one ``plan_*`` function per concern;
- ``actions``: what each step does, after checking the live database again;
- ``findings``: what needs an admin's attention;
- ``executor``: the public entry points, running the plan in passes and recording the
  migrations.

Old data is assumed to be as messy as the old clients could make it; each cleaning step says
what it found and what it did, and nothing the old clients wrote is deleted: duplicate VIDEO
rows are moved to ``VIDEO_ADOPT_DUPLICATES``, videos of a missing zone get a disabled
placeholder zone with that id.
"""

from .exceptions import AdoptionError
from .executor import AdoptionOutcome, legacy_adoption_execute, legacy_adoption_plan
from .planner import AdoptionPlan

__all__ = [
    "AdoptionError",
    "AdoptionOutcome",
    "AdoptionPlan",
    "legacy_adoption_execute",
    "legacy_adoption_plan",
]
