from django.urls import path

from . import timeliness_views

app_name = "timeliness"
urlpatterns = [
    path("", timeliness_views.review, name="review"),
    path("mine/", timeliness_views.mine, name="mine"),
    path("export.csv", timeliness_views.export_csv, name="export_csv"),
    path("export.xlsx", timeliness_views.export_xlsx, name="export_xlsx"),
    path("countries/<str:code>/", timeliness_views.country, name="country"),
]
