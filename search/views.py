"""The operators' pages. Thin: forms parse the input, selectors read, services write and
audit; each view then renders. The JSON API is search.api."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from storage.links import video_link
from storage.models import Video
from storage.retention import retention_today
from zones.selectors import zone_names

from .auth import request_actor, token_or_session_required, user_may_hold
from .errors import error_page
from .forms import HoldForm, LoginForm, SearchForm
from .integrity import IntegrityState
from .models import AccessEvent
from .moments import moment_parse
from .queries import widenings
from .review import search_parts, video_page, video_play_json
from .selectors import recent_searches, video_search_page
from .services import access_search_record, access_video_record, legal_hold_change

PAGE_SIZE = 20


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


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The search form and, once searched, a page of results as a table with one player.

    Listing hands out no link and audits no view (only the search): a part's link is
    issued, and audited, by ``video_play`` when it is played.
    """
    form = SearchForm(request.GET or None)
    context = {"form": form, "searched": False, "zone_names": zone_names()}
    recent = recent_searches(user=request.user)
    if form.is_valid():
        found = video_search_page(
            filters=form.filters(),
            page_number=request.GET.get("page"),
            page_size=PAGE_SIZE,
            prefix_fallback=not form.exact_only(),
        )
        access_search_record(
            actor=request_actor(request),
            query=found.filters.as_query(),
            result_count=found.count,
        )
        searched = found.filters.link()
        recent = [link for link in recent if link.key != searched.key]
        query = request.GET.copy()
        query.pop("page", None)
        context.update(
            searched=searched,
            found=found,
            page=found.page,
            rows=found.rows,
            parts=search_parts(rows=found.rows),
            widenings=widenings(link=searched) if not found.count else [],
            query_string=query.urlencode(),
        )
    context["recent"] = recent
    return render(request, "search/index.html", context)


@login_required
@require_GET
def video_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The recording's page: what the call was, the reviewer with all of the call's parts
    (this one's signed link given, so opening the page is the audited view), its notes,
    retention and holds. ``?t=<seconds>`` (or ``1:23``) starts the player there."""
    video = get_object_or_404(Video.objects.select_related("zone"), pk=pk)
    play_url = video_link(video=video)
    if play_url:
        access_video_record(
            actor=request_actor(request), action=AccessEvent.Action.VIEW, video=video
        )
    may_hold = user_may_hold(request.user)
    return render(
        request,
        "search/video.html",
        {
            "video": video,
            "play_url": play_url,
            "page": video_page(video=video, url=play_url, user=request.user, may_hold=may_hold),
            "start_time": moment_parse(request.GET.get("t", "")) or 0,
            "today": retention_today(),
            "integrity": IntegrityState.of(video),
            "may_hold": may_hold,
        },
    )


@require_POST
def video_play(request: HttpRequest, pk: int) -> JsonResponse:
    """Hand the player a signed link to one recording, and audit it as a view.

    The search results list recordings without links: a link is what lets a browser watch,
    so it is issued (and audited) only here, when a part is played, never when it is merely
    listed. POST, so a link cannot be issued by a cross-site GET (an <img> on another page).
    Answers JSON for the page's script, a 401 rather than a login redirect when the session
    has ended.
    """
    if not request.user.is_authenticated:
        return JsonResponse({"error": _("Your session has ended: sign in again.")}, status=401)
    video = Video.objects.select_related("zone").filter(pk=pk).first()
    if video is None:
        return JsonResponse({"error": _("There is no such recording.")}, status=404)
    url = video_link(video=video)
    if url is None:
        reason = (
            _("This recording was deleted under the retention policy.")
            if video.delete_date
            else _("Not available: the zone has no video server address.")
        )
        return JsonResponse({"error": reason}, status=410)
    access_video_record(actor=request_actor(request), action=AccessEvent.Action.VIEW, video=video)
    return JsonResponse(
        video_play_json(video=video, url=url), json_dumps_params={"ensure_ascii": False}
    )


@require_GET
@token_or_session_required(redirect_browsers=True)
def video_download(request: HttpRequest, pk: int) -> HttpResponse:
    """Audit a download, then send the browser to the zone's signed download link.

    The only way to a download link (nginx refuses a play link with &download=1), so every
    download is in the audit. The API's ``download_url`` points here: an API token works as
    well as a signed-in session.
    """
    video = get_object_or_404(Video.objects.select_related("zone"), pk=pk)
    url = video_link(video=video, download=True)
    if url is None:
        if video.delete_date:
            day = formats.date_format(video.delete_date, "SHORT_DATE_FORMAT")
            reason = _("This recording was deleted on %(date)s under the retention policy.") % {
                "date": day
            }
        else:
            reason = _("Not available: the zone has no video server address.")
        return error_page(request, status=404, reason=reason)
    access_video_record(
        actor=request_actor(request), action=AccessEvent.Action.DOWNLOAD, video=video
    )
    return redirect(url)


@login_required
@require_POST
def video_hold(request: HttpRequest, pk: int) -> HttpResponse:
    """Place or lift a hold from the recording's page; lifting needs a reason and an
    explicit confirmation (HoldForm), placing a reason."""
    video = get_object_or_404(Video, pk=pk)
    if not user_may_hold(request.user):
        return error_page(request, status=403)
    form = HoldForm(request.POST)
    if not form.is_valid():
        if "hold" in form.errors:
            messages.error(request, _("The hold request was not understood."), extra_tags="hold")
        for field in ("reason", "confirm"):
            for message in form.errors.get(field, []):
                messages.error(request, message, extra_tags="hold")
        return redirect(reverse("search:video", args=[video.pk]) + "#hold")
    hold = form.cleaned_data["hold"]
    try:
        legal_hold_change(
            actor=request_actor(request),
            video=video,
            hold=hold,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message, extra_tags="hold")
    else:
        done = _("Legal hold placed.") if hold else _("Legal hold lifted.")
        messages.success(request, done, extra_tags="hold")
    return redirect(reverse("search:video", args=[video.pk]) + "#hold")
