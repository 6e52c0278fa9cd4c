"""The embedded player's file endpoint (``make run`` only; production uses nginx)."""

import functools
from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseNotFound
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from zones.models import Zone

from .links import LinkCheck, link_check, query_arg_raw
from .media.tree import CONTENT_TYPES, PREVIEW_FILES, PREVIEWS_DIR
from .paths import UnsafePath, file_path_resolve
from .serving import file_response


def _confined(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Every answer, errors included, with the headers nginx adds `always`: the browser takes
    the type as sent and renders anything in a sandbox. Here that matters more than on the
    video server, as the origin is the application's own."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            response = HttpResponseNotFound("Not Found", content_type="text/plain")
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        return response

    return wrapper


# GET/HEAD only, like nginx's 405 for anything else; csrf_exempt so a POST gets that 405
# rather than a CSRF 403 (nothing here changes state).
@csrf_exempt
@_confined
@require_safe
def embedded_media(request, zone_id: int, file_path: str = "") -> HttpResponse:
    """Serve a recording exactly as the zone's nginx would: same signature, same answers."""
    if not settings.OPVIDEO_EMBEDDED_MEDIA:
        raise Http404
    zone = get_object_or_404(Zone, pk=zone_id)
    # The download flag is part of the signature, read as nginx reads $arg_download.
    download = query_arg_raw(query_string=request.META.get("QUERY_STRING", ""), name="download")
    verdict = link_check(
        uri="/" + file_path,
        md5=request.GET.get("md5"),
        expires=request.GET.get("expires"),
        secret=zone.link_secret,
        download=download,
    )
    # A recording's previews: only a poster, sprite or index under .previews/ with no other
    # hidden segment, as nginx's `location ^~ /.previews/` serves them.
    preview = _preview_part(file_path)
    if preview is None:
        # Hidden files are refused before the signature, as nginx's `location ~ /\.` does.
        if any(part.startswith(".") for part in file_path.split("/")):
            raise Http404
        # Only the zone's recordings, as nginx's extension location: an .html or .svg in
        # PATH_DST would otherwise run as script on this origin.
        if not file_path.lower().endswith("." + zone.file_extension.lower()):
            raise Http404
    if verdict is LinkCheck.BAD:
        return HttpResponse("Forbidden", status=403, content_type="text/plain")
    if verdict is LinkCheck.EXPIRED:
        return HttpResponse("Link expired", status=410, content_type="text/plain")
    try:
        path = file_path_resolve(
            root=zone.path_dst, file_name=file_path, allow_hidden=preview is not None
        )
    except UnsafePath:
        return HttpResponse("Forbidden", status=403, content_type="text/plain")
    if not path.is_file():
        raise Http404
    return file_response(
        request=request,
        path=path,
        download=download == "1",
        content_type=CONTENT_TYPES.get(preview) if preview else None,
    )


def _preview_part(file_path: str) -> str | None:
    """The preview file's name if ``file_path`` is one nginx would serve, else None; Http404
    for anything else under .previews/."""
    head, _sep, rest = file_path.partition("/")
    if head != PREVIEWS_DIR:
        return None
    *directories, name = rest.split("/")
    if not directories or name not in PREVIEW_FILES:
        raise Http404
    if any(not part or part.startswith(".") for part in directories):
        raise Http404
    return name
