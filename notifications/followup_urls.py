from django.urls import path

from . import followup_views

app_name = "followup"
urlpatterns = [
    path("", followup_views.queue, name="queue"),
    path("<str:reference>/", followup_views.follow_up, name="record"),
]
