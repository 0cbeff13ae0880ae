"""The ASGI service's URLs: the project's, with the status endpoint served by
its async view, which waits (``?wait=``) without holding a thread."""

from django.urls import re_path

from hakiyetu.urls import urlpatterns as wsgi_urlpatterns
from payments.api.status_wait import payment_status_view

urlpatterns = [
    # The same pattern and name as payments/api/urls.py; first match wins.
    re_path(
        r"^api/payment/mpesa/status/(?P<checkout_request_id>[^/\x00]{1,64})$",
        payment_status_view,
        name="status-wait",
    ),
    *wsgi_urlpatterns,
]
