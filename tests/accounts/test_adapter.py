import datetime
import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings

from outbox.emails import send_email
from outbox.models import OutgoingEmail
from registration.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def sent(email: OutgoingEmail, mailoutbox) -> tuple[OutgoingEmail, str, str]:
    """Deliver `email` as the worker does; the row afterwards, and the text and HTML that went out."""
    send_email(email.pk)
    message = mailoutbox[-1]
    return OutgoingEmail.objects.get(pk=email.pk), message.body, message.alternatives[0][0]


def test_password_reset_email_goes_through_outbox_in_our_layout_and_language(client, settings, mailoutbox):
    settings.SITE_URL = "https://cluster.example.eu"
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
    # Only who asked is stored, never the link.
    assert (email.context, email.body_text, email.body_html) == ({"user_id": user.pk}, "", "")

    email, text, html = sent(email, mailoutbox)
    assert email.subject == "Elija una contraseña nueva"
    assert text.startswith("Alguien, probablemente usted, pidió restablecer la contraseña de su cuenta.")
    link = re.search(r"https://cluster.example.eu/accounts/password/reset/key/\S+/", text).group(0)
    assert '<html lang="es" dir="ltr">' in html
    assert "<h1>Elija una contraseña nueva</h1>" in html
    assert f'<a href="{link}" rel="nofollow">{link}</a>' in html
    # Sent, the row still holds no link: the bodies of account emails are never kept.
    assert (email.status, email.body_text, email.body_html) == (OutgoingEmail.Status.SENT, "", "")
    assert "/accounts/password/reset/key/" not in str(email.context)


def test_password_reset_link_made_at_send_time_works(client, mailoutbox):
    user = UserFactory(email="ela@example.pl")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client.post("/accounts/password/reset/", {"email": "ela@example.pl"})

    _email, text, _html = sent(OutgoingEmail.objects.get(), mailoutbox)
    path = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+/)", text).group(1)
    form_page = client.get(path, follow=True)
    assert not form_page.context.get("token_fail")
    response = client.post(
        form_page.request["PATH_INFO"], {"password1": "Klastry-2026-Nuevo", "password2": "Klastry-2026-Nuevo"}
    )

    assert response.status_code == 302, response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password("Klastry-2026-Nuevo")


def test_password_reset_of_a_deleted_account_is_not_sent(client, mailoutbox):
    user = UserFactory(email="ela@example.pl")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client.post("/accounts/password/reset/", {"email": "ela@example.pl"})
    email = OutgoingEmail.objects.get()
    user.delete()

    send_email(email.pk)

    email.refresh_from_db()
    assert (email.status, email.last_error, mailoutbox) == (
        OutgoingEmail.Status.FAILED,
        "Not sent: the account was deleted.",
        [],
    )


def test_signup_verification_email_goes_through_outbox(client, mailoutbox):
    client.post(
        "/accounts/signup/",
        {"email": "new@example.eu", "password1": "Klastry-2017-Valencia", "password2": "Klastry-2017-Valencia"},
    )

    email = OutgoingEmail.objects.get()
    address = EmailAddress.objects.get(email="new@example.eu")
    assert (email.kind, email.to, email.language) == ("account_email_confirmation_signup", "new@example.eu", "en")
    assert email.context == {"user_id": address.user_id, "email_address_id": address.pk}
    email, text, html = sent(email, mailoutbox)
    link = re.search(r"confirm your email address by opening this link:\s+(\S+)", text).group(1)
    assert "To finish signing up, confirm your email address" in html
    assert (email.body_text, email.body_html) == ("", "")

    client.get(link.removeprefix(settings.SITE_URL), follow=True)
    client.post(link.removeprefix(settings.SITE_URL))
    address.refresh_from_db()
    assert address.verified


def test_password_reset_for_unknown_address_goes_through_outbox(client, mailoutbox):
    client.post("/accounts/password/reset/", {"email": "nobody@example.eu"})

    email = OutgoingEmail.objects.get()
    assert (email.kind, email.to) == ("account_unknown_account", "nobody@example.eu")
    _email, _text, html = sent(email, mailoutbox)
    assert "<h1>No account has this address</h1>" in html


def test_password_changed_notice_keeps_its_time(client, settings, mailoutbox):
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = True
    user = UserFactory(email="ela@example.pl", password="Klastry-2017-Valencia")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client.force_login(user)
    client.post(
        "/accounts/password/change/",
        {"oldpassword": "Klastry-2017-Valencia", "password1": "Klastry-2026-Nuevo", "password2": "Klastry-2026-Nuevo"},
    )

    email = OutgoingEmail.objects.get(kind="account_password_changed")
    assert email.context["datetimes"] == ["timestamp"]
    _email, text, _html = sent(email, mailoutbox)
    assert "The password of your account was changed." in text
    assert str(datetime.datetime.fromisoformat(email.context["timestamp"]).year) in text


def test_signup_keeps_the_language_the_person_signed_up_in(client):
    client.post(
        "/accounts/signup/",
        {"email": "nuevo@example.es", "password1": "Klastry-2017-Valencia", "password2": "Klastry-2017-Valencia"},
        HTTP_ACCEPT_LANGUAGE="es",
    )

    assert User.objects.get(email="nuevo@example.es").language == "es"
    assert OutgoingEmail.objects.get().language == "es"
