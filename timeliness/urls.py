from django.urls import path

from . import views

app_name = "timeliness"
urlpatterns = [
    path("", views.review, name="review"),
    path("mine/", views.mine, name="mine"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("export.xlsx", views.export_xlsx, name="export_xlsx"),
    path("reconciliation/", views.reconciliation_page, name="reconciliation"),
    path("reconciliation/export.csv", views.reconciliation_csv, name="reconciliation_csv"),
    path("countries/<str:code>/", views.country, name="country"),
]

# Served under the notification's pages, where the filing form asks for it, with its name
# there (notifications:country_signal): pen_portal.urls mounts these beside them.
notification_patterns = [
    path("countries/<str:code>/signal.json", views.country_signal, name="country_signal"),
]
