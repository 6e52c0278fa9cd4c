from django.contrib.auth import views as auth_views
from django.urls import path

from . import api, note_views, views

app_name = "search"

urlpatterns = [
    path("", views.index, name="index"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("videos/<int:pk>/", views.video_detail, name="video"),
    path("videos/<int:pk>/play/", views.video_play, name="play"),
    path("videos/<int:pk>/download/", views.video_download, name="download"),
    path("videos/<int:pk>/hold/", views.video_hold, name="hold"),
    path("videos/<int:pk>/notes/", note_views.notes, name="notes"),
    path("videos/<int:pk>/notes/<int:note_id>/delete/", note_views.note_delete, name="note-delete"),
    path("api/videos/", api.api_videos, name="api-videos"),
    path("api/me/", api.api_me, name="api-me"),
    path("api/capacity/", api.api_capacity, name="api-capacity"),
]
