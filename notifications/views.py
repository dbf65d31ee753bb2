from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from . import access


@login_required
def dashboard(request):
    return render(request, "notifications/dashboard.html", {})


@login_required
def detail(request, reference):
    notification = access.get_notification_for(request.user, reference)
    return render(request, "notifications/detail.html", {"notification": notification})
