from django.apps import AppConfig


class HakiyetuConfig(AppConfig):
    name = "hakiyetu"
    verbose_name = "Haki Yetu"
