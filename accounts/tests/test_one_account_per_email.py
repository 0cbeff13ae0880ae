"""One client account per e-mail address, even when two sign-ups (or a
sign-up and a profile change) name one address at the same moment: the
serializer's check cannot see an uncommitted row; the profile's unique
``email_key`` can (issue 17, point 1)."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.test import APIClient

from accounts.exceptions import EmailTaken
from accounts.models import ClientProfile
from accounts.services import account_register, profile_update
from core.tests.concurrency import run_at_once

PASSWORD = "tembo-kubwa-2027-mvua"
User = get_user_model()


@pytest.mark.django_db
def test_a_sign_up_whose_email_was_taken_after_the_check_writes_nothing():
    # given: another sign-up took the address (any case) after our check
    account_register(username="first", password=PASSWORD, email="Wanjiku@Example.com")
    # when: ours reaches the write
    with pytest.raises(EmailTaken) as raised:
        account_register(
            username="second", password=PASSWORD, email="wanjiku@example.com"
        )
    # then: the API's 400 on email, and no second user, profile or token
    assert raised.value.as_body()["error"]["fields"] == {
        "email": ["An account with that e-mail address exists."]
    }
    assert not User.objects.filter(username="second").exists()
    assert ClientProfile.objects.count() == 1


@pytest.mark.django_db
def test_a_profile_change_to_a_taken_email_changes_nothing():
    # given
    account_register(username="first", password=PASSWORD, email="a@example.com")
    second, _ = account_register(
        username="second", password=PASSWORD, email="b@example.com"
    )
    # when
    with pytest.raises(EmailTaken):
        profile_update(user=second, full_name="New Name", email="A@example.com")
    # then: neither the name nor the address moved
    second.refresh_from_db()
    assert second.email == "b@example.com"
    assert second.client_profile.full_name == ""
    assert second.client_profile.email_key == "b@example.com"


@pytest.mark.django_db
def test_an_accounts_own_new_email_is_its_key():
    user, _ = account_register(
        username="first", password=PASSWORD, email="a@example.com"
    )
    profile_update(user=user, email="New@Example.com")
    assert ClientProfile.objects.get(user=user).email_key == "new@example.com"
    # and the old address is free again
    account_register(username="other", password=PASSWORD, email="a@example.com")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_two_sign_ups_with_one_email_at_once_make_one_account(attempt):
    # given: two people sign up with one address, different usernames
    answers = []
    lock = threading.Lock()

    def sign_up(username: str):
        def run():
            response = APIClient().post(
                "/api/auth/register/",
                {
                    "username": username,
                    "password": PASSWORD,
                    "full_name": "Wanjiku Kamau",
                    "email": "wanjiku@example.com",
                },
                format="json",
                REMOTE_ADDR=f"10.0.0.{len(username)}",
            )
            with lock:
                answers.append(response.status_code)

        return run

    # when
    errors = run_at_once(sign_up(f"wanjiku{attempt}a"), sign_up(f"wanjiku{attempt}bb"))
    connection.close()
    # then: one 201, one 400; one account holds the address
    assert errors == []
    assert sorted(answers) == [201, 400]
    assert User.objects.filter(email__iexact="wanjiku@example.com").count() == 1
