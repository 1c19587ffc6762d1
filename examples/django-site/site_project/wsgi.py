"""WSGI entry point for servers other than aloft (aloft uses `django_settings` directly)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_project.settings")
application = get_wsgi_application()
