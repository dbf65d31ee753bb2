from django.urls import path

from . import views

app_name = "monitoring"
urlpatterns = [
    path("estimates/", views.estimate_list, name="list"),
    path("estimates/new/", views.estimate_create, name="create"),
    path("estimates/import/", views.estimate_import, name="import"),
    path("estimates/<str:country>/<str:substance>/", views.estimate_history, name="history"),
    path("risk/", views.risk_overview, name="risk"),
    path("risk/export.csv", views.risk_csv, name="risk_csv"),
]
