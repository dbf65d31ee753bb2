from django.urls import path

from . import views

app_name = "authorities"
urlpatterns = [
    path("", views.directory, name="directory"),
    path("countries/<str:code>/", views.country, name="country"),
    path("policies/", views.policies, name="policies"),
    path("policies/<str:code>/", views.policy_edit, name="policy_edit"),
]
