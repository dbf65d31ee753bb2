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
    path("surveillance/", views.surveillance_list, name="surveillance"),
    path("surveillance/add/", views.surveillance_add, name="surveillance_add"),
    path("surveillance/<slug:code>/edit/", views.surveillance_edit, name="surveillance_edit"),
    path("surveillance/<slug:code>/retire/", views.surveillance_retire, name="surveillance_retire"),
    path("surveillance/<slug:code>/reinstate/", views.surveillance_reinstate, name="surveillance_reinstate"),
    path("surveillance/<slug:code>/history/", views.surveillance_history, name="surveillance_history"),
]
