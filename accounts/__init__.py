"""Accounts: API tokens (cached lookups, revoked on password change), the
token endpoint and the login lockout."""
