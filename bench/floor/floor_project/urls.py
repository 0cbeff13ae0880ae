from django.urls import path

from floor_app import views

urlpatterns = [
    path("api/payment/callback/<str:secret>", views.callback),
    path("api/payment/mpesa/status/<str:checkout_request_id>", views.Status.as_view()),
]
