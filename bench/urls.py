"""The app's URLs plus /bench/bare/: the ceiling of any page through the same
middleware, for the benchmark only."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare),
    path("", include("helpdesk.urls")),
]

handler400 = "intake.views.bad_request"
