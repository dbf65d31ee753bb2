from django.urls import path

from . import views

app_name = "authorities"
urlpatterns = [
    path("", views.directory, name="directory"),
    path("countries/<str:code>/", views.country, name="country"),
    path("countries/<str:code>/closures/", views.closure_declare, name="closure_declare"),
    path("countries/<str:code>/closures/<int:pk>/withdraw/", views.closure_withdraw, name="closure_withdraw"),
    path("policies/", views.policies, name="policies"),
    path("policies/<str:code>/", views.policy_edit, name="policy_edit"),
]
