"""A small Django project sharing its Redis cache with cachex, for the interop tests.

Configured from the environment by django_app.py: CACHEX_REDIS_URL (the Redis the tests
started), CACHEX_PREFIX (KEY_PREFIX, unique per test file) and CACHEX_DJANGO_DIR (a temporary
directory for the sqlite database).
"""

import os

SECRET_KEY = "cachex-interop-tests-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
USE_TZ = True
# Not UTC, so that localtime() gives pytz states with daylight saving time (Django 3.2).
TIME_ZONE = "Europe/Paris"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "interop_site",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "interop_site.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(os.environ["CACHEX_DJANGO_DIR"], "db.sqlite3"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

# The cache cachex shares: django-redis with its default PickleSerializer (PICKLE_VERSION 4 on
# Python 3.8+), and sessions stored in it.
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ["CACHEX_REDIS_URL"],
        "KEY_PREFIX": os.environ["CACHEX_PREFIX"],
        "OPTIONS": {
            "SERIALIZER": "django_redis.serializers.pickle.PickleSerializer",
        },
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_CACHE_ALIAS = "default"

# Tests only: a fast hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
