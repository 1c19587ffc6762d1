from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/home.html", {"database": connection.vendor})


def health(request: HttpRequest) -> HttpResponse:
    """Answers once the database is reachable (a deploy's health check may point here)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
