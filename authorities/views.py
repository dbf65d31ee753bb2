from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from .models import Authority, Country


@login_required
def directory(request):
    term = request.GET.get("q", "")
    authorities = Authority.objects.national().select_related("country").search(term)
    return render(request, "authorities/directory.html", {"authorities": authorities, "q": term})


@login_required
def country(request, code):
    country = get_object_or_404(Country, code=code.upper())
    return render(request, "authorities/country.html", {"country": country})


@login_required
def policies(request):
    # Placeholder until the INCB policy page is built.
    from django.http import Http404

    raise Http404
