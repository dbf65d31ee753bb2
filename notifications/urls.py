from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("<str:reference>/", views.detail, name="detail"),
]
