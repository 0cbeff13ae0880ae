"""Core: what every app shares and no app owns: the API's error envelope,
health, the checkout pages, CSP, deploy checks, logging and error-report
redaction, money formatting, time zone, static storage and run_local."""
