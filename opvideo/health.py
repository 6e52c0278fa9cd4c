"""``/healthz/``: is this web process able to serve requests, database included.

The container healthcheck and the Swarm rolling update (``order: start-first``) wait for
it, so a new version that cannot reach the database never replaces a working one. Public
and terse on purpose: it says "ok" or "database unavailable" and nothing else.
"""

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
