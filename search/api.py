"""The JSON API: the search page's filters in, recordings with signed links out; for staff,
the zones' storage forecast. A signed-in session or an API token
(search.auth.token_or_session_required)."""

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from storage.capacity.forecast import ZoneForecast, zone_forecasts
from storage.capacity.text import forecast_lines, warning_lines

from .auth import request_actor, token_or_session_required
from .forms import SearchForm
from .selectors import search_page_json, video_search_page
from .services import access_search_record

API_PAGE_SIZE = 100
NO_FILTER = "give at least one of: session, project, date_from, date_to"


@require_GET
@token_or_session_required
def api_videos(request: HttpRequest) -> JsonResponse:
    """``GET /api/videos/?session=…`` with the page's filters."""
    form = SearchForm(request.GET or None)
    if not form.is_valid():
        errors = form.errors.get_json_data() if form.is_bound else {}
        reason = "; ".join(e["message"] for errs in errors.values() for e in errs) or NO_FILTER
        return JsonResponse({"error": reason, "fields": errors}, status=400)
    filters = form.filters()
    # A client that gets links: each result's signed link, audited as a view. A whole
    # session id is matched whole (an integration asked for that call, not its neighbours);
    # ``match=prefix`` asks for its beginning.
    found = video_search_page(
        filters=filters, page_number=request.GET.get("page"), page_size=API_PAGE_SIZE, links=True
    )
    access_search_record(
        actor=request_actor(request, via_api=True),
        query=filters.as_query(),
        result_count=found.count,
        linked=found.linked,
    )
    return JsonResponse(
        search_page_json(found=found, absolute_url=request.build_absolute_uri),
        json_dumps_params={"ensure_ascii": False},
    )


@require_GET
@token_or_session_required
def api_me(request: HttpRequest) -> JsonResponse:
    """Who the API sees: lets an integration check its token without running a search."""
    return JsonResponse({"username": request.user.get_username()})


@require_GET
@token_or_session_required
def api_capacity(request: HttpRequest) -> JsonResponse:
    """``GET /api/capacity/``: each enabled zone's storage and its forecast, for staff (a
    monitoring script's token, an admin's session). Reads only the zones' snapshots and
    daily figures, never VIDEO: cheap to poll."""
    # As the admin's warning and dashboard: staff who may see the zones.
    if not (request.user.is_staff and request.user.has_perm("zones.view_zone")):
        return JsonResponse(
            {"error": "the storage forecast is for staff who may view the zones"},
            status=403,
        )
    now = timezone.now()
    zones = [_capacity_json(forecast, now=now) for forecast in zone_forecasts()]
    return JsonResponse({"zones": zones}, json_dumps_params={"ensure_ascii": False})


def _capacity_json(forecast: ZoneForecast, *, now) -> dict:
    snapshot = forecast.snapshot
    return {
        "zone": forecast.zone.name,
        "snapshot": None
        if snapshot is None
        else {
            "taken_at": snapshot.taken_at.isoformat(),
            "total_bytes": snapshot.total_bytes,
            "used_bytes": snapshot.used_bytes,
            "free_bytes": snapshot.free_bytes,
            "file_count": snapshot.file_count,
            "file_bytes": snapshot.file_bytes,
            "oldest_recording": _iso(snapshot.oldest_recording),
        },
        "snapshot_stale": forecast.snapshot_stale(now=now),
        "window_days": forecast.window_days,
        "ingest_bytes_per_day": _whole(forecast.ingest_per_day),
        "purge_bytes_per_day": _whole(forecast.purge_per_day),
        "growth_bytes_per_day": _whole(forecast.growth_per_day),
        "days_to_full": None if forecast.days_to_full is None else round(forecast.days_to_full, 1),
        "full_on": _iso(forecast.full_on),
        "retention_days": forecast.zone.retention_days,
        "retention_bytes": _whole(forecast.retention_bytes),
        "room_bytes": forecast.room_bytes,
        "retention_fits": forecast.retention_fits,
        "warning": forecast.warning,
        "text": forecast_lines(forecast),
        "attention": warning_lines(forecast, now=now),
    }


def _whole(value: float | None) -> int | None:
    return None if value is None else round(value)


def _iso(day) -> str | None:
    return None if day is None else day.isoformat()
