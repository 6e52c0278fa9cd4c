"""The error pages (403, 404, 500) in the site's language and look, each with a way back to
the search; opvideo/urls.py makes them Django's handlers (used when DEBUG is off).

The 500 page is rendered without the request: whatever failed (the database, the session
store) must not fail the error page too, so it names no user and reads nothing.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token


def error_page(request: HttpRequest, *, status: int, reason: str = "") -> HttpResponse:
    """The error page for ``status``, with ``reason`` (said to the user) when there is one."""
    titles = {
        403: _("Not allowed"),
        404: _("Not found"),
    }
    texts = {
        403: _("You may not open this page. Ask an administrator if you need to."),
        404: _("There is no such page or recording. The link may be mistyped or out of date."),
    }
    context = {
        "status": status,
        "title": titles.get(status, _("Not found")),
        "text": texts.get(status, ""),
        "reason": reason,
    }
    return render(request, "search/error.html", context, status=status)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    # Django's own message (``No Video matches the given query.``) is for developers: the
    # page says it in the user's words; a view that knows why says so itself (error_page).
    return error_page(request, status=404)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return error_page(request, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    html = render_to_string(
        "search/error_500.html", {"LANGUAGE_CODE": translation.get_language() or "ru"}
    )
    return HttpResponseServerError(html)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form sent from a page open too long (the token changed when the
    user signed in again elsewhere) or from another site. Django's own page is English and
    for developers; ``reason`` is too, so it is logged by Django, not shown."""
    return error_page(
        request,
        status=403,
        reason=_(
            "The form was sent from a page that is out of date. Reload the page and try again."
        ),
    )
