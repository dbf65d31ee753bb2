from django.urls import path

from . import webhook_views

app_name = "webhooks"
urlpatterns = [
    path("", webhook_views.endpoint_list, name="list"),
    path("<int:pk>/", webhook_views.endpoint_detail, name="detail"),
    path("<int:pk>/disable/", webhook_views.endpoint_disable, name="disable"),
    path("<int:pk>/enable/", webhook_views.endpoint_enable, name="enable"),
    path("<int:pk>/delete/", webhook_views.endpoint_delete, name="delete"),
]
