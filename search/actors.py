"""Who does what the access audit records, and from where: the services' explicit actor.

Services take an ``Actor`` rather than a request, so a page, the API, an admin action, a
Celery task or a management command call the same function and write the same audit row
(``search.auth.request_actor`` builds one from a request).
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    """``user``: the account acting; None for the system (a scheduled task) or for a caller
    not signed in (a refused API key). ``address`` and ``user_agent``: where from, when it
    came over HTTP. ``via_api``: through the JSON API rather than the pages."""

    user: Any = None
    address: str | None = None
    user_agent: str = ""
    via_api: bool = False


# The directory sync and other scheduled work: no account, no address.
SYSTEM = Actor()
