"""The operators' pages and the JSON API. Thin: forms validate, selectors read, services
write and audit."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from storage.links import video_link
from storage.models import Video
from zones.selectors import zone_names

from .auth import api_token_check, user_may_hold
from .forms import HoldForm, LoginForm, SearchForm
from .integrity import IntegrityState
from .models import AccessEvent
from .selectors import video_search, videos_zones_attach
from .services import (
    access_search_record,
    access_token_refused_record,
    access_video_record,
    legal_hold_change,
)

PAGE_SIZE = 20
API_PAGE_SIZE = 100


class ShortResultPaginator(Paginator):
    """A paginator that spares the COUNT(*) when the first page is all there is.

    Almost every search is one call's session id: a handful of rows. Reading one row more
    than a page tells whether more exist; only then is a count needed.
    """

    _head: list | None = None

    @cached_property
    def count(self) -> int:
        self._head = list(self.object_list[: self.per_page + 1])
        if len(self._head) <= self.per_page:
            return len(self._head)
        return self.object_list.count()

    def page(self, number):
        number = self.validate_number(number)  # reads count, and so the first rows
        if number == 1 and self._head is not None:
            return self._get_page(self._head[: self.per_page], number, self)
        return super().page(number)


@dataclass
class ResultRow:
    video: Video
    play_url: str | None


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "search/login.html"
    redirect_authenticated_user = True


def lockout(request, original_response=None, credentials=None) -> HttpResponse:
    """django-axes calls this when a user name has failed too often."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    form = LoginForm(request)
    return render(
        request,
        "search/login.html",
        {"form": form, "locked_out": True, "cooloff_minutes": minutes},
        status=429,
    )


def _search(request: HttpRequest, *, page_size: int, via_api: bool = False):
    """Validate the query, run it and audit it; shared by the page and the API."""
    form = SearchForm(request.GET or None)
    if not form.is_bound:
        return form, None
    if not form.is_valid():
        return form, None
    filters = form.filters()
    if filters.is_empty():
        form.add_error(None, _("Enter a session id, a project id or a date range."))
        return form, None
    paginator = ShortResultPaginator(video_search(filters=filters), page_size)
    page = paginator.get_page(request.GET.get("page"))
    videos = videos_zones_attach(videos=list(page.object_list))
    rows = [ResultRow(video=v, play_url=video_link(video=v)) for v in videos]
    access_search_record(
        request=request,
        query=filters.as_query(),
        result_count=page.paginator.count,
        linked=[row.video for row in rows if row.play_url],
        via_api=via_api,
    )
    return form, (page, rows)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    form, found = _search(request, page_size=PAGE_SIZE)
    context = {
        "form": form,
        "searched": found is not None,
        "zone_names": zone_names(),
    }
    if found:
        page, rows = found
        query = request.GET.copy()
        query.pop("page", None)
        context.update(page=page, rows=rows, query_string=query.urlencode())
    return render(request, "search/index.html", context)


@login_required
@require_GET
def video_detail(request: HttpRequest, pk: int) -> HttpResponse:
    video = get_object_or_404(Video.objects.select_related("zone"), pk=pk)
    play_url = video_link(video=video)
    if play_url:
        access_video_record(request=request, action=AccessEvent.Action.VIEW, video=video)
    return render(
        request,
        "search/video.html",
        {
            "video": video,
            "play_url": play_url,
            "integrity": IntegrityState.of(video),
            "may_hold": user_may_hold(request.user),
            "hold_form": HoldForm(),
        },
    )


@require_GET
def video_download(request: HttpRequest, pk: int) -> HttpResponse:
    """Audit a download, then send the browser to the zone's signed download link.

    The only way to a download link (nginx refuses a play link with &download=1), so every
    download is in the audit. The API's ``download_url`` points here: an API token works as
    well as a signed-in session.
    """
    via_api = False
    if not request.user.is_authenticated:
        if "Authorization" not in request.headers:
            return redirect_to_login(request.get_full_path())
        refusal = _token_sign_in(request)
        if refusal is not None:
            return refusal
        via_api = True
    video = get_object_or_404(Video.objects.select_related("zone"), pk=pk)
    url = video_link(video=video, download=True)
    if url is None:
        raise Http404(_("This recording cannot be downloaded."))
    access_video_record(
        request=request, action=AccessEvent.Action.DOWNLOAD, video=video, via_api=via_api
    )
    return redirect(url)


@login_required
@require_POST
def video_hold(request: HttpRequest, pk: int) -> HttpResponse:
    video = get_object_or_404(Video, pk=pk)
    if not user_may_hold(request.user):
        return render(request, "search/forbidden.html", status=403)
    form = HoldForm(request.POST)
    if form.is_valid():
        try:
            legal_hold_change(
                request=request,
                video=video,
                hold=form.cleaned_data["hold"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("Legal hold placed.") if form.cleaned_data["hold"] else _("Legal hold lifted."),
            )
    else:
        messages.error(request, _("The hold request was not understood."))
    return redirect("search:video", pk=video.pk)


@require_GET
def api_videos(request: HttpRequest) -> JsonResponse:
    """``GET /api/videos/?session=…`` with the page's filters; session or token auth."""
    if not request.user.is_authenticated:
        refusal = _token_sign_in(request)
        if refusal is not None:
            return refusal
    form, found = _search(request, page_size=API_PAGE_SIZE, via_api=True)
    if found is None:
        errors = form.errors.get_json_data() if form.is_bound else {}
        reason = "; ".join(e["message"] for errs in errors.values() for e in errs) or (
            "give at least one of: session, project, date_from, date_to"
        )
        return JsonResponse({"error": reason, "fields": errors}, status=400)
    page, rows = found
    return JsonResponse(
        {
            "count": page.paginator.count,
            "page": page.number,
            "pages": page.paginator.num_pages,
            "results": [_video_json(row, request=request) for row in rows],
        },
        json_dumps_params={"ensure_ascii": False},
    )


@require_GET
def api_me(request: HttpRequest) -> JsonResponse:
    """Who the API sees: lets an integration check its token without running a search."""
    if not request.user.is_authenticated:
        refusal = _token_sign_in(request)
        if refusal is not None:
            return refusal
    return JsonResponse({"username": request.user.get_username()})


def _token_sign_in(request: HttpRequest) -> JsonResponse | None:
    """Make the API token's user the request's user, or the 401 that says why not.

    A known key refused (expired, revoked, its user deactivated) is audited under its
    owner: someone still holds it. Without any token the answer is the plain 401.
    """
    check = api_token_check(request)
    if check is None:
        return JsonResponse({"error": "authentication required"}, status=401)
    if check.user is None:
        if check.token is not None:
            access_token_refused_record(request=request, token=check.token, reason=check.error)
        return JsonResponse({"error": check.error}, status=401)
    request.user = check.user
    return None


def _video_json(row: ResultRow, *, request: HttpRequest) -> dict:
    v = row.video
    return {
        "id": v.pk,
        "zone": v.zone.name,
        "session_id": v.session_id,
        "project_id": v.project_id,
        "file_name": v.file_name,
        "recording_date": v.recording_date.isoformat(),
        "size": v.size,
        "legal_hold": v.legal_hold,
        "deleted_on": v.delete_date.isoformat() if v.delete_date else None,
        # The zone worker's last re-reading of the file against its hash, and where the
        # hash was taken (on storage: weaker evidence than on the workstation).
        "integrity": IntegrityState.of(v).as_json(),
        "url": row.play_url,
        # The audited download view, not a signed link: a download must leave a trace.
        "download_url": (
            request.build_absolute_uri(reverse("search:download", args=[v.pk]))
            if row.play_url
            else None
        ),
    }
