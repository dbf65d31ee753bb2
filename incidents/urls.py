from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.create, name="create"),
    # Before the incident's own pages: "overview" is no reference.
    path("overview/", views.overview_page, name="overview"),
    path("overview/export.csv", views.overview_csv, name="overview_csv"),
    path("<str:reference>/", views.detail, name="detail"),
    path("<str:reference>/amend/", views.amend, name="amend"),
]
