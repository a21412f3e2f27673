import factory

from tests.factories import RegistrationFactory, SessionFactory, VerifiedUserFactory
from voting.identity import Voter
from voting.models import Option, Poll


class PollFactory(factory.django.DjangoModelFactory):
    """A draft single-choice poll; `options=["A", "B"]` gives it options."""

    class Meta:
        model = Poll
        skip_postgeneration_save = True

    session = factory.SubFactory(SessionFactory)
    question = factory.Sequence(lambda n: f"Which action matters most? ({n})")
    kind = Poll.Kind.SINGLE

    @factory.post_generation
    def options(self, create: bool, extracted, **kwargs) -> None:
        labels = ["Supporting cross-sectoral collaboration", "Strategic cross-regional collaboration"]
        if create and self.has_options:
            for position, label in enumerate(labels if extracted is None else extracted):
                Option.objects.create(poll=self, label=label, position=position)


def attendee_voter(conference, **registration) -> Voter:
    """A confirmed attendee of `conference`, as the views see them."""
    registration = RegistrationFactory(conference=conference, user=VerifiedUserFactory(), **registration)
    return Voter(identity=f"user:{registration.user.pk}", user=registration.user, registration=registration)


def guest_voter(session, name: str = "guest") -> Voter:
    return Voter(identity=f"guest:{name}", guest_session_ids=frozenset({session.pk}))


def option_ids(poll: Poll) -> list[int]:
    return list(poll.options.values_list("pk", flat=True))
