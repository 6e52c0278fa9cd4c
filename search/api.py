"""The JSON API: the search page's filters in, recordings with signed links out. A signed-in
session or an API token (search.auth.token_or_session_required)."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

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
