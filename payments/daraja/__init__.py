"""Adapter for Safaricom's Daraja API (M-Pesa Express / STK Push).

A pure adapter: it imports ``requests``, the standard library and Django's
cache, and reads settings only inside ``client.get_client()``.

- ``client``: ``DarajaClient`` (``stk_push``, ``stk_query``,
  ``access_token``) and ``get_client()``.
- ``types``: ``DarajaConfig``, ``DarajaEnvironment``, ``StkPushResult``,
  ``StkQueryResult``, ``DarajaExchange`` (what ``on_exchange`` receives).
- ``exceptions``: ``DarajaError`` and its subclasses.
- ``callbacks``: ``parse_stk_callback()`` and ``StkCallback``.
- ``phone``, ``validation``, ``credentials``: the input rules, the
  Nairobi timestamp and the password.

What a push failure means for the caller:

- ``DarajaValidationError``, ``DarajaUnavailable``: nothing reached Daraja,
  or Daraja refused it unprocessed (429, 503, 500.003.x); no prompt.
- ``DarajaRejected`` (incl. ``DarajaAuthError``): Daraja answered with an
  error; no prompt. ``is_subscriber_locked``: another prompt is open.
- ``DarajaOutcomeUnknown``: the request left (read timeout, connection
  dropped after sending, truncated answer, 500/502/504 without Daraja's
  error envelope, or a 2xx without a CheckoutRequestID). A prompt may be on
  the phone and no CheckoutRequestID is known: never resend at once.
"""
