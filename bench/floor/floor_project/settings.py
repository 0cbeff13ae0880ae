"""startproject's settings, with DEBUG off and PostgreSQL from the environment.

Only the database (and, on request, persistent connections), ``DEBUG``,
``ALLOWED_HOSTS``, the secret key and two apps (DRF's token app and
``floor_app``) differ from ``django-admin startproject``.
"""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("FLOOR_SECRET_KEY", "floor-bench-not-secret-" + "x" * 30)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "floor_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "floor_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "floor_project.wsgi.application"

DATABASES = {
    "default": environ.Env.db_url_config(
        os.environ.get(
            "FLOOR_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hky_bench_floor"
        )
    )
}
# The benchmarks give the floor ours (60 s, health checks): a floor that
# forks a PostgreSQL backend per request measures the fork, not the work.
# --floor-per-request sets 0, startproject's default.
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("FLOOR_CONN_MAX_AGE", "0"))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = DATABASES["default"]["CONN_MAX_AGE"] > 0

AUTH_PASSWORD_VALIDATORS = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

# Same secret in the path as the benchmark's product configuration.
CALLBACK_SECRET = os.environ.get("MPESA_CALLBACK_SECRET", "")
