"""Top-level URL map: the admin and each app's own URLs."""

from django.contrib import admin
from django.urls import include, path

from opvideo.health import healthz
from opvideo.metrics.views import metrics

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    # Answered by opvideo.metrics.middleware before the host checks; here so it resolves
    # (and is listed) like every other URL.
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("storage.urls")),
    path("", include("search.urls")),
]

# The error pages in the site's language and look (used when DEBUG is off).
handler403 = "search.errors.permission_denied"
handler404 = "search.errors.page_not_found"
handler500 = "search.errors.server_error"
