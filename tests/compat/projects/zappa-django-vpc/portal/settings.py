SECRET_KEY = "portal"
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = []
ROOT_URLCONF = "portal.urls"
USE_TZ = True
