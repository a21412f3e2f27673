"""A person's own data, across every app: the download (GDPR articles 15 and 20) and the
erasure when they delete their account (article 17).

accounts knows the account itself and the emails sent to its addresses (the outbox); every
other app that keeps personal data adds itself here, in its AppConfig.ready(), with what it
gives a person about themselves and how it erases them. accounts imports none of those apps.
The apps that add themselves today: registration (registrations, bookings, history),
agenda (stars), meetings (profiles, requests) and checkin (badges).

The same parts erase one conference's registrations when its retention period ends, or
when an attendee withdraws their agreement to its privacy statement (`erase_registrations`):
each part that keeps something per registration erases it through `erase_registrations`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, Value
from django.db.models.functions import Concat

from outbox.emails import emails_to, erase_emails


@dataclass(frozen=True)
class Part:
    """One app's share of a person's data: `export(user)` gives it as JSON-ready values,
    `erase(user)` erases it inside the deletion's transaction, before the account goes;
    `erase_registrations(registration_ids)`, if the app keeps data per registration, erases
    that for those registrations (all of one conference) inside their erasure's transaction."""

    name: str
    export: Callable[[Any], Any] | None
    erase: Callable[[Any], None] | None
    erase_registrations: Callable[[list[int]], None] | None = None


_parts: dict[str, Part] = {}


def register(
    name: str,
    *,
    export: Callable[[Any], Any] | None = None,
    erase: Callable[[Any], None] | None = None,
    erase_registrations: Callable[[list[int]], None] | None = None,
) -> None:
    """Add an app's part under `name` (its key in the download); once per name."""
    part = Part(name, export, erase, erase_registrations)
    if name in _parts and _parts[name] != part:
        raise ValueError(f"A part of personal data named {name!r} is registered already.")
    _parts[name] = part


def parts() -> list[Part]:
    return list(_parts.values())


def addresses(user) -> set[str]:
    """Every address the user has or had on their account."""
    return {user.email, *EmailAddress.objects.filter(user=user).values_list("email", flat=True)}


def addresses_of(users) -> set[str]:
    """Every address the users (a queryset) have or had on their accounts, in two queries."""
    return {
        *users.values_list("email", flat=True),
        *EmailAddress.objects.filter(user__in=users.values("pk")).values_list("email", flat=True),
    }


def personal_data(user) -> dict[str, Any]:
    """Everything kept about the user, for them to download."""
    return {
        "account": {
            "email": user.email,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
            "language": user.language,
            "email_addresses": [
                {"email": address.email, "verified": address.verified, "primary": address.primary}
                for address in user.emailaddress_set.order_by("pk")
            ],
        },
        **{part.name: part.export(user) for part in _parts.values() if part.export},
        "emails": emails_to(addresses(user)),
    }


def delete_account(user) -> None:
    """Delete `user` and erase their personal data in every app, in one transaction.

    Each registered part erases its own first, the last registered first (registration cancels live registrations,
    which may lock conferences and sessions: see registration.services); then the emails to
    any of the user's addresses, or written by them, lose recipient, subject, bodies,
    attachments and error, and those not sent yet never will be; the admin's log names the
    account by id only; and the account goes.
    """
    with transaction.atomic():
        # The apps built on others first (they registered later): the meetings still find the
        # person's registrations before registration unlinks them from the account.
        for part in reversed(list(_parts.values())):
            if part.erase:
                part.erase(user)
        erase_emails(addresses(user), reason="Not sent: the account was deleted.")
        erase_admin_log(get_user_model(), [user.pk])
        user.delete()


def erase_registrations(registration_ids: list[int], *, addresses: set[str], conference) -> None:
    """Erase the personal data of these registrations of `conference` in every app, in one
    transaction, as `delete_account` erases an account's but no further than that conference:
    each part's `erase_registrations` (the last registered first, as there), then the emails
    about the conference to `addresses` (the people's, read before their registrations lose
    them). The accounts stay; an attendee's other conferences are untouched."""
    with transaction.atomic():
        for part in reversed(list(_parts.values())):
            if part.erase_registrations:
                part.erase_registrations(registration_ids)
        erase_emails(addresses, conference=conference, reason="Not sent: the personal data was erased.")


def erase_admin_log(model, pks: list[int]) -> None:
    """The admin's log names objects as they were (a registration by the attendee's name, a
    user by email address); erased ones are named by their id."""
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id__in=[str(pk) for pk in pks]
    ).update(object_repr=Concat(Value("#"), "object_id", output_field=CharField()))
