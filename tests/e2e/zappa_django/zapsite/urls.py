from django.contrib import admin
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.urls import path


def home(request: HttpRequest) -> HttpResponse:
    # Reads the database: answers 500 until `migrate` ran (the first deploy publishes anyway).
    return HttpResponse(f"{User.objects.count()} users\n", content_type="text/plain")


urlpatterns = [
    path("", home),
    path("admin/", admin.site.urls),
]
