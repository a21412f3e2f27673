import re

import pytest
from allauth.account.models import EmailAddress

from outbox.models import OutgoingEmail
from registration.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_password_reset_email_goes_through_outbox_in_our_layout_and_language(client):
    user = UserFactory(email="ela@example.pl")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    client.post("/accounts/password/reset/", {"email": "ela@example.pl"}, HTTP_ACCEPT_LANGUAGE="es")

    email = OutgoingEmail.objects.get()
    assert (email.kind, email.to, email.language, email.status) == (
        "account_password_reset_key",
        "ela@example.pl",
        "es",
        OutgoingEmail.Status.QUEUED,
    )
    assert email.subject == "Correo electrónico para restablecer contraseña"
    assert email.body_text.startswith("¡Hola de parte de testserver!")
    link = re.search(r"http://testserver/accounts/password/reset/key/\S+/", email.body_text).group(0)
    assert '<html lang="es" dir="ltr">' in email.body_html
    assert "<h1>Correo electrónico para restablecer contraseña</h1>" in email.body_html
    assert f'<a href="{link}" rel="nofollow">{link}</a>' in email.body_html


def test_signup_verification_email_goes_through_outbox(client):
    client.post(
        "/accounts/signup/",
        {"email": "new@example.eu", "password1": "Klastry-2017-Valencia", "password2": "Klastry-2017-Valencia"},
    )

    email = OutgoingEmail.objects.get()
    assert (email.kind, email.to, email.language) == ("account_email_confirmation_signup", "new@example.eu", "en")
    assert "To confirm this is correct, go to http://testserver/accounts/confirm-email/" in email.body_text
    assert "You&#x27;re receiving this email because user" in email.body_html


def test_password_reset_for_unknown_address_goes_through_outbox(client):
    client.post("/accounts/password/reset/", {"email": "nobody@example.eu"})

    email = OutgoingEmail.objects.get()
    assert (email.kind, email.to) == ("account_unknown_account", "nobody@example.eu")
    assert "<h1>Unknown Account</h1>" in email.body_html


def test_signup_keeps_the_language_the_person_signed_up_in(client):
    client.post(
        "/accounts/signup/",
        {"email": "nuevo@example.es", "password1": "Klastry-2017-Valencia", "password2": "Klastry-2017-Valencia"},
        HTTP_ACCEPT_LANGUAGE="es",
    )

    assert User.objects.get(email="nuevo@example.es").language == "es"
    assert OutgoingEmail.objects.get().language == "es"
