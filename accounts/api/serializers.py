"""Input and output of the account endpoints (``/api/auth/...``)."""

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from rest_framework import serializers

from core.phone import InvalidPhoneNumber, normalise_phone

User = get_user_model()
USERNAME_FIELD = User._meta.get_field("username")
TAKEN_USERNAME = "That username is taken."
TAKEN_EMAIL = "An account with that e-mail address exists."
BAD_RESET_LINK = "This reset link is invalid or has expired. Ask for a new one."


def _phone(value: str) -> str:
    if not value.strip():
        return ""
    try:
        return normalise_phone(value)
    except InvalidPhoneNumber as exc:
        raise serializers.ValidationError(exc.message) from None


def _email_free(email: str, *, exclude_pk: int | None = None) -> str:
    email = User.objects.normalize_email(email)
    taken = User.objects.filter(email__iexact=email).exclude(pk=exclude_pk)
    if taken.exists():
        raise serializers.ValidationError(TAKEN_EMAIL)
    return email


def _check_password(password: str, user) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise serializers.ValidationError({"password": exc.messages}) from None


class InputRegisterSerializer(serializers.Serializer):
    username = serializers.CharField(
        max_length=150, required=False, help_text="Defaults to the e-mail address."
    )
    password = serializers.CharField(write_only=True, trim_whitespace=False)
    full_name = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    phone_number = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=32
    )

    def validate_username(self, value: str) -> str:
        value = value.strip()
        for validator in USERNAME_FIELD.validators:
            try:
                validator(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages) from None
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError(TAKEN_USERNAME)
        return value

    def validate_email(self, value: str) -> str:
        return _email_free(value)

    def validate_phone_number(self, value: str) -> str:
        return _phone(value)

    def validate(self, attrs: dict) -> dict:
        if "username" not in attrs:
            if User.objects.filter(username__iexact=attrs["email"]).exists():
                raise serializers.ValidationError({"email": [TAKEN_EMAIL]})
            attrs["username"] = attrs["email"]
        # Checked against the username, e-mail and name, as a user would be.
        candidate = User(
            username=attrs["username"],
            email=attrs["email"],
            first_name=attrs["full_name"],
        )
        _check_password(attrs["password"], candidate)
        return attrs


class OutputUserSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user.id")
    username = serializers.CharField(source="user.username")
    # A CharField: users made before sign-up existed (staff, seed_demo) may
    # have no e-mail, and "" is not an e-mail address in the schema.
    email = serializers.CharField(source="user.email")
    full_name = serializers.CharField()
    phone_number = serializers.CharField(
        help_text="Default M-Pesa phone (2547XXXXXXXX), or empty."
    )
    is_staff = serializers.BooleanField(source="user.is_staff")


class OutputRegisterSerializer(serializers.Serializer):
    token = serializers.CharField()
    user = OutputUserSerializer()


class InputProfileSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False)
    phone_number = serializers.CharField(
        max_length=32, required=False, allow_blank=True
    )

    def validate_email(self, value: str) -> str:
        return _email_free(value, exclude_pk=self.context["user"].pk)

    def validate_phone_number(self, value: str) -> str:
        return _phone(value)


class InputPasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class InputPasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(write_only=True, trim_whitespace=False)

    def validate(self, attrs: dict) -> dict:
        user = _user_of_uid(attrs["uid"])
        if user is None or not default_token_generator.check_token(
            user, attrs["token"]
        ):
            raise serializers.ValidationError({"token": [BAD_RESET_LINK]})
        try:
            password_validation.validate_password(attrs["new_password"], user)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"new_password": exc.messages}) from None
        attrs["user"] = user
        return attrs


def _user_of_uid(uid: str):
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    if not 0 < pk < 2**63:  # beyond the id column: no such user
        return None
    return User.objects.filter(pk=pk, is_active=True).first()
