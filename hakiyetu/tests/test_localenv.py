"""``python -m hakiyetu.localenv``: a fresh .env, and field keys added to an
older one (``make run`` and ``make test`` call it every time)."""

from cryptography.fernet import Fernet

from hakiyetu.localenv import ensure_local_env, local_env_lines
from payments import callback_url


def _variables(path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def test_a_fresh_env_has_usable_field_keys(tmp_path):
    # given / when
    target = tmp_path / ".env"
    ensure_local_env(target)
    # then
    variables = _variables(target)
    Fernet(variables["FIELD_ENCRYPTION_KEYS"])
    assert len(variables["FIELD_HASH_KEY"]) >= 32


def test_an_older_env_gets_only_the_keys_it_lacks(tmp_path):
    # given: a .env written before the field keys existed
    target = tmp_path / ".env"
    target.write_text("SECRET_KEY=kept\nDEBUG=1")
    # when
    first = ensure_local_env(target)
    second = ensure_local_env(target)
    # then
    variables = _variables(target)
    assert variables["SECRET_KEY"] == "kept"
    Fernet(variables["FIELD_ENCRYPTION_KEYS"])
    assert "added 2 generated keys" in first
    assert second == ""
    assert target.read_text().count("FIELD_HASH_KEY=") == 1


def test_generated_secrets_never_hold_a_word_daraja_filters(monkeypatch):
    # given: token_urlsafe drawing, first, secrets that hold such words
    draws = iter(["abcCMDxyz", "fooSQLbar", "xx-MPesa-yy", "clean_secret_1"])
    monkeypatch.setattr(callback_url.secrets, "token_urlsafe", lambda n: next(draws))
    # when / then: the first clean draw is the one used
    assert callback_url.url_secret() == "clean_secret_1"


def test_a_fresh_env_has_usable_callback_and_result_urls():
    for _ in range(300):  # a bad draw came about once in 200
        values = dict(line.split("=", 1) for line in local_env_lines() if "=" in line)
        secret = values["MPESA_CALLBACK_SECRET"]
        assert not callback_url.callback_url_problems(
            url=values["MPESA_CALLBACK_URL"], secret=secret, environment="sandbox"
        )
        lowered = values["MPESA_RESULT_SECRET"].lower()
        assert not any(word in lowered for word in callback_url.FORBIDDEN_WORDS)
