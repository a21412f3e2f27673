"""What the door adds to the attendee list (registration.exports.register_column)."""

from django.contrib.postgres.aggregates import StringAgg
from django.db import models
from django.db.models import Case, F, OuterRef, Subquery, When
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from checkin.models import CheckIn
from registration.exports import Column

CHECK_INS = Column("checked_in_doors", _("Checked in"))


def check_ins_cell() -> Subquery:
    """One cell listing where a registration was let in, in time order: each conference day as
    an ISO date, each pre-event session by its title. Undone check-ins are left out. Built by
    the database in the list's own query, as the pre-events cell is."""
    doors = (
        CheckIn.objects.valid()
        .filter(registration=OuterRef("pk"))
        .order_by()
        .values("registration")
        .annotate(
            doors=StringAgg(
                Case(
                    When(session__isnull=True, then=Cast("day", models.TextField())),
                    default=F("session__title"),
                    output_field=models.TextField(),
                ),
                delimiter="; ",
                order_by=("day", F("session__start").asc(nulls_first=True), "session__id"),
            )
        )
        .values("doors")
    )
    return Subquery(doors, output_field=models.TextField())
