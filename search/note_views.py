"""Notes on a recording: listed for the player, added at a moment, taken back.

Thin: NoteForm parses, search.services writes (with the audit row), search.review reads.
The player's script asks for JSON (``Accept: application/json``) and gets it, errors
included; a plain form post (the page without script) is answered with a redirect back to
the recording's page and a message.
"""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from storage.models import Video, VideoNote

from .auth import request_actor
from .errors import error_page
from .forms import NoteForm
from .moments import moment_format
from .review import note_json, video_notes_json
from .services import video_note_add, video_note_delete


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _json(body: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _refusal(request: HttpRequest, *, status: int, message: str) -> HttpResponse:
    """A refusal in the form the caller reads: JSON for the player, a page otherwise."""
    if _wants_json(request):
        return _json({"error": message}, status=status)
    if status == 401:
        return redirect_to_login(request.get_full_path())
    return error_page(request, status=status, reason=message)


def _signed_out(request: HttpRequest) -> HttpResponse:
    return _refusal(request, status=401, message=_("Your session has ended: sign in again."))


def _back_to(video_pk: int, *, at: float | None = None, anchor: str = "notes") -> HttpResponse:
    query = f"?t={int(at)}" if at else ""
    return redirect(reverse("search:video", args=[video_pk]) + query + f"#{anchor}")


@require_http_methods(["GET", "POST"])
def notes(request: HttpRequest, pk: int) -> HttpResponse:
    """``GET``: the recording's notes as JSON. ``POST`` (``at``, ``text``): add one."""
    if not request.user.is_authenticated:
        return _signed_out(request)
    video = Video.objects.filter(pk=pk).first()
    if video is None:
        return _refusal(request, status=404, message=_("There is no such recording."))
    if request.method == "GET":
        return _json(video_notes_json(video=video, user=request.user))
    form = NoteForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.as_data())
        note = video_note_add(
            actor=request_actor(request),
            video=video,
            at_seconds=form.cleaned_data["at"],
            text=form.cleaned_data["text"],
        )
    except ValidationError as exc:
        if _wants_json(request):
            fields = exc.message_dict if hasattr(exc, "error_dict") else {}
            return _json({"error": " ".join(exc.messages), "fields": fields}, status=400)
        for message in exc.messages:
            messages.error(request, message, extra_tags="notes")
        return _back_to(video.pk)
    if _wants_json(request):
        return _json({"note": note_json(note=note, user=request.user)}, status=201)
    added = _("Note added at %(moment)s.") % {"moment": moment_format(note.at_seconds)}
    messages.success(request, added, extra_tags="notes")
    return _back_to(video.pk, at=note.at_seconds, anchor=f"note-{note.pk}")


@require_POST
def note_delete(request: HttpRequest, pk: int, note_id: int) -> HttpResponse:
    """Take a note back: its author, or a superuser."""
    if not request.user.is_authenticated:
        return _signed_out(request)
    note = VideoNote.objects.select_related("video").filter(pk=note_id, video_id=pk).first()
    if note is None:
        return _refusal(request, status=404, message=_("There is no such note."))
    try:
        video_note_delete(actor=request_actor(request), note=note)
    except PermissionDenied as exc:
        return _refusal(request, status=403, message=str(exc))
    if _wants_json(request):
        return _json({"deleted": note_id})
    messages.success(request, _("Note deleted."), extra_tags="notes")
    return _back_to(pk)
