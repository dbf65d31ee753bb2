from django.urls import path

from . import views

app_name = "followup"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("<str:reference>/", views.follow_up, name="record"),
]
