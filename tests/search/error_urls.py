"""The project's URLs and error handlers, plus views that fail on purpose: what a 403 and
a 500 look like in production (tests/search/test_error_pages.py)."""

from django.core.exceptions import PermissionDenied
from django.urls import path

from opvideo.urls import handler403, handler404, handler500, urlpatterns  # noqa: F401


def refuse(request):
    raise PermissionDenied


def fail(request):
    raise RuntimeError("a bug")


urlpatterns = [
    path("test-refuse/", refuse),
    path("test-fail/", fail),
    *urlpatterns,
]
