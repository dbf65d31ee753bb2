from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("list/", views.notification_list, name="list"),
    path("list/export.csv", views.list_csv, name="list_csv"),
    path("list/export.xlsx", views.list_xlsx, name="list_xlsx"),
    path("new/", views.create, name="create"),
    # Before the notification's own pages: "search" is no reference.
    path("search/", views.search, name="search"),
    path("<str:reference>/", views.detail, name="detail"),
    path("<str:reference>/timeline.json", views.timeline_export, name="timeline_export"),
    path("<str:reference>/print/", views.print_view, name="print"),
    path("<str:reference>/edit/", views.edit, name="edit"),
    path("<str:reference>/amend/", views.amend, name="amend"),
    path("<str:reference>/dispatch/", views.record_dispatch, name="dispatch"),
    path("<str:reference>/arrival/", views.confirm_arrival, name="confirm_arrival"),
    path("<str:reference>/explain-discrepancy/", views.explain_discrepancy, name="explain_discrepancy"),
    path("<str:reference>/suspend/", views.suspend, name="suspend"),
    path("<str:reference>/lift-suspension/", views.lift_suspension, name="lift_suspension"),
    path("<str:reference>/send/", views.send, name="send"),
    path("<str:reference>/delete/", views.delete, name="delete"),
    path("<str:reference>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<str:reference>/reply/", views.reply, name="reply"),
    path("<str:reference>/answer/", views.answer, name="answer"),
    path("<str:reference>/withdraw/", views.withdraw, name="withdraw"),
    path("<str:reference>/shares/", views.share, name="share"),
    path("<str:reference>/shares/<slug:code>/revoke/", views.revoke_share, name="revoke_share"),
    path("<str:reference>/attachments/", views.upload_attachment, name="upload_attachment"),
    path("<str:reference>/attachments/<str:token>/", views.download_attachment, name="attachment"),
]
