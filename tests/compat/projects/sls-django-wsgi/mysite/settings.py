import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-local-key")
DEBUG = os.environ.get("DJANGO_DEBUG") == "true"
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.contenttypes"]
ROOT_URLCONF = "mysite.urls"
DATABASES = {}
USE_TZ = True
