"""Observability: GET /metrics (the database gauges computed at scrape),
the alert checks and their one-notice-per-change state. May import payments
(models, selectors) and core; nothing imports it but configuration."""
