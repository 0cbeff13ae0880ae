"""Adapter for Safaricom's Daraja API (M-Pesa Express / STK Push).

A pure adapter: it imports ``requests``, the standard library, Django's
cache and two small pure-stdlib project modules, ``payments.phone`` (the
phone rule it applies before sending) and ``core.time`` (Kenyan time, for
Daraja's timestamps), and reads settings only inside ``client.get_client()``.

- ``client``: ``DarajaClient`` (``stk_push``, ``stk_query``,
  ``access_token``), ``get_client()`` and the retries of idempotent calls.
- ``types``: ``DarajaConfig`` (and ``config_from_settings``),
  ``DarajaEnvironment``, ``StkPushResult``, ``StkQueryResult``,
  ``DarajaExchange`` (what ``on_exchange`` receives).
- ``exceptions``: ``DarajaError`` and its subclasses.
- ``validation``: the input checks, the Nairobi timestamp, the password
  and the STK request bodies (the phone rule comes from ``payments.phone``).
- ``transport``: one HTTP exchange, its redaction and transport errors.
- ``answers``: one HTTP answer read into an exception or a result.
- ``tokens``: the OAuth token shared through Django's cache.
- ``callbacks``: ``parse_stk_callback()`` and ``StkCallback``.
- ``initiator_calls``: ``reversal``, ``b2c_payment``, ``transaction_status``
  (a mixin of ``DarajaClient``), with their bodies in ``initiator_bodies``,
  the SecurityCredential in ``security`` (the only module importing
  ``cryptography``) and ``InitiatorConfig`` in ``initiator_config``.
- ``results``: ``parse_async_result()`` (ResultURL and QueueTimeOutURL
  bodies) and the typed ``reversal_fields``, ``transaction_status_fields``,
  ``b2c_fields`` (``result_fields``).
- ``retries``, ``c2b_calls``: the backoff of idempotent calls; C2B register.
- ``pull_calls``: ``pull_register``, ``pull_transactions`` (a mixin of
  ``DarajaClient``) returning ``PullRegistration`` and ``PullPage`` of
  ``PullTransaction`` (``pull_types``, re-exported by ``types``).

What a push failure means for the caller:

- ``DarajaValidationError``, ``DarajaUnavailable``: nothing reached Daraja,
  or Daraja refused it unprocessed (429, 503, 500.003.x); no prompt.
- ``DarajaRejected`` (incl. ``DarajaAuthError``): Daraja answered with an
  error; no prompt. ``is_subscriber_locked``: another prompt is open.
- ``DarajaOutcomeUnknown``: the request left (read timeout, connection
  dropped after sending, truncated answer, 500/502/504 without Daraja's
  error envelope, or a 2xx without a CheckoutRequestID). A prompt may be on
  the phone and no CheckoutRequestID is known: never resend at once.

Reversal and B2C follow the same rule (never retried; ``DarajaOutcomeUnknown``
when sent without a usable answer: money may have moved).
"""
