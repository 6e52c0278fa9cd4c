from django.urls import path

from . import views

app_name = "storage"

urlpatterns = [
    path("media/z/<int:zone_id>/", views.embedded_media, name="embedded-media-root"),
    path("media/z/<int:zone_id>/<path:file_path>", views.embedded_media, name="embedded-media"),
]
