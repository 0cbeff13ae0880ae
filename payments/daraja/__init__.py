"""Adapter for Safaricom's Daraja API (M-Pesa Express / STK Push).

Pure adapter: imports only ``requests``, the standard library and Django's
cache and settings (the latter in ``get_client()``, never at import).
"""
