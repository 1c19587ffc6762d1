import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure")
DEBUG = False
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "*").split(",")
INSTALLED_APPS = ["django.contrib.contenttypes"]
ROOT_URLCONF = "shop.urls"
DATABASES = {}
USE_TZ = True
