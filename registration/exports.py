"""Attendee lists as CSV: the one exporter behind the staff pages and the admin action.

Every list is a tuple of columns in a fixed, documented order (docs/exports.md) and a
queryset of rows as tuples in that order. PostgreSQL writes the file (COPY) and it is
streamed while it writes, so memory stays flat whatever the size; headers and labels are
resolved in the request's language before streaming starts. Each download leaves an ExportRecord.
"""

import csv
import datetime
import json
import queue
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.postgres.aggregates import StringAgg
from django.db import connection, models, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When, Window
from django.db.models.functions import Collate, Concat, RowNumber, TruncDate
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from agenda.models import Conference, Session
from registration.models import Booking, ExportRecord, Registration

# ICU's root collation sorts Ł after L and Ź with Z, where the database's C collation
# would put every accented capital after z.
NAME_COLLATION = "und-x-icu"

# A spreadsheet reads a cell that begins with one of these as a formula (OWASP's list).
FORMULA_TRIGGERS = frozenset("=+-@\t\r")
# First characters worth a closer look: the triggers, and spaces that may hide one.
_SUSPECT_STARTS = FORMULA_TRIGGERS | {" "}
# A sign followed only by digits and the separators of phone numbers and amounts. Such a
# cell holds no name, reference, string or pipe, so no formula in it can call a function,
# read another cell or reach another program: it is left exactly as typed ("+34 963 …").
PLAIN_NUMBER = re.compile(r"[+-][0-9 ()./-]*[0-9][0-9 ()./-]*")


def neutralise(value: str) -> str:
    """Make a cell safe against formula injection while keeping it readable.

    A cell whose first character (after any spaces) is =, +, -, @, a tab or a carriage
    return gets a leading apostrophe, which spreadsheets take as "this is text": nothing
    is removed, so `'=HYPERLINK(...)` still shows what was typed. Plain signed numbers and
    phone numbers are the exception (see PLAIN_NUMBER).
    """
    if value[:1] not in _SUSPECT_STARTS:
        return value
    stripped = value.lstrip(" ")
    if stripped[:1] in FORMULA_TRIGGERS and not PLAIN_NUMBER.fullmatch(stripped):
        return "'" + value
    return value


class Dialect(models.TextChoices):
    EXCEL = "excel", _("Excel and most spreadsheets: commas, UTF-8 with a byte-order mark")
    EXCEL_SEMICOLON = (
        "excel-semicolon",
        _("Spreadsheets set to a European language: semicolons, UTF-8 with a byte-order mark"),
    )
    CSV = "csv", _("Plain CSV for other programs: commas, UTF-8 without a byte-order mark")


DELIMITERS = {Dialect.EXCEL: ",", Dialect.EXCEL_SEMICOLON: ";", Dialect.CSV: ","}
BYTE_ORDER_MARK = "\ufeff"


class Personal(models.TextChoices):
    """Groups of personal details that an export can leave out (data minimisation)."""

    NAME = "name", _("Names")
    EMAIL = "email", _("Email addresses")
    JOB_TITLE = "job_title", _("Job titles")
    DIETARY = "dietary_requirements", _("Dietary requirements")
    ACCESSIBILITY = "accessibility_needs", _("Accessibility needs")
    PHOTO = "photo_opt_out", _("Photo opt-outs")


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    # How the value is written; see _formatters. "text" is written as read.
    kind: str = "text"
    personal: Personal | None = None


NUMBER = Column("number", _("Registration number"))
GIVEN_NAME = Column("given_name", _("Given name"), personal=Personal.NAME)
FAMILY_NAME = Column("family_name", _("Family name"), personal=Personal.NAME)
ORGANISATION = Column("organisation", _("Organisation"))
COUNTRY = Column("country", _("Country"), kind="country")
ACCESSIBILITY_NEEDS = Column("accessibility_needs", _("Accessibility needs"), personal=Personal.ACCESSIBILITY)
PHOTO_OPT_OUT = Column("photo_opt_out", _("Photo opt-out"), kind="yes_no", personal=Personal.PHOTO)
PRE_EVENTS = Column("pre_events", _("Pre-events"))
# An empty column to tick on a printed list.
CHECKED_IN = Column("checked_in", _("Checked in"))

ATTENDEE_COLUMNS = (
    NUMBER,
    Column("status", _("Status"), kind="status"),
    GIVEN_NAME,
    FAMILY_NAME,
    Column("email", _("Email"), personal=Personal.EMAIL),
    ORGANISATION,
    Column("organisation_type", _("Organisation type"), kind="organisation_type"),
    Column("country_code", _("Country code")),
    COUNTRY,
    Column("job_title", _("Job title"), personal=Personal.JOB_TITLE),
    PRE_EVENTS,
    Column("dietary_requirements", _("Dietary requirements"), personal=Personal.DIETARY),
    ACCESSIBILITY_NEEDS,
    PHOTO_OPT_OUT,
    Column("registered_at", _("Registered at"), kind="datetime"),
    Column("language", _("Language"), kind="language"),
)


@dataclass(frozen=True)
class AddedColumn:
    """A column another app adds at the end of the attendee list: `value()` gives the database
    expression of a registration's cell (OuterRef("pk") is the registration), so the list
    stays one streamed query."""

    column: Column
    value: Callable[[], Any]


_added: dict[str, AddedColumn] = {}


def register_column(column: Column, *, value: Callable[[], Any]) -> None:
    """Add `column` after the attendee list's own, in the order of registering; once per key.

    Apps that know more about a registration than registration does (check-in) call this in
    their AppConfig.ready(): registration imports none of them."""
    if column.key in _added and _added[column.key] != AddedColumn(column, value):
        raise ValueError(f"An export column with the key {column.key!r} is registered already.")
    if any(own.key == column.key for own in ATTENDEE_COLUMNS):
        raise ValueError(f"{column.key!r} is a column of the attendee list already.")
    _added[column.key] = AddedColumn(column, value)


def attendee_columns() -> tuple[Column, ...]:
    """The attendee list's columns: its own, then those other apps added."""
    return ATTENDEE_COLUMNS + tuple(added.column for added in _added.values())


CHECK_IN_COLUMNS = (
    FAMILY_NAME,
    GIVEN_NAME,
    ORGANISATION,
    COUNTRY,
    NUMBER,
    PRE_EVENTS,
    PHOTO_OPT_OUT,
    ACCESSIBILITY_NEEDS,
    CHECKED_IN,
)

SESSION_COLUMNS = (
    FAMILY_NAME,
    GIVEN_NAME,
    ORGANISATION,
    COUNTRY,
    NUMBER,
    Column("seat", _("Seat"), kind="booking_status"),
    Column("waiting_position", _("Place on the waiting list")),
    ACCESSIBILITY_NEEDS,
    PHOTO_OPT_OUT,
    CHECKED_IN,
)


# Rows -------------------------------------------------------------------------------


def _pre_events_cell() -> Subquery:
    """One cell listing a registration's bookings in time order, waiting ones marked.

    Built by the database in the same row, so the export needs one query at any size.
    """
    waiting = gettext(" (waiting list)")
    titles = (
        Booking.objects.filter(registration=OuterRef("pk"))
        .order_by()
        .values("registration")
        .annotate(
            titles=StringAgg(
                Concat(
                    "session__title",
                    Case(When(status=Booking.Status.WAITLISTED, then=Value(waiting)), default=Value("")),
                    output_field=models.TextField(),
                ),
                delimiter="; ",
                order_by=("session__start", "session__id"),
            )
        )
        .values("titles")
    )
    return Subquery(titles, output_field=models.TextField())


def _values(queryset: QuerySet, columns: tuple[Column, ...], computed: dict) -> QuerySet:
    """Rows as tuples in the columns' order, reading only what the columns need (an omitted
    email does not even join the user table). `computed` gives the columns that are not
    fields of the model by the same name."""
    keys = [column.key for column in columns]
    return queryset.annotate(**{key: computed[key] for key in keys if key in computed}).values_list(*keys)


def registration_values(queryset: QuerySet[Registration], columns: tuple[Column, ...]) -> QuerySet:
    computed = {
        "email": F("user__email"),
        "country_code": F("country"),
        "pre_events": _pre_events_cell(),
        "registered_at": F("created_at"),
        "checked_in": Value(""),
    }
    computed |= {key: added.value() for key, added in _added.items()}
    return _values(queryset, columns, computed)


def _by_name(prefix: str = "") -> list:
    return [
        Collate(f"{prefix}family_name", NAME_COLLATION).asc(),
        Collate(f"{prefix}given_name", NAME_COLLATION).asc(),
        F(f"{prefix}number").asc(),
    ]


def describe_filters(filters: dict) -> dict:
    """The filters that were set, as JSON values, for the export record."""
    described = {}
    for key in ("status", "pre_event", "country", "organisation_type", "registered_from", "registered_to"):
        value = filters.get(key)
        if isinstance(value, Session):
            value = value.code
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        if value:
            described[key] = value
    return described


def filter_registrations(conference: Conference, filters: dict) -> QuerySet[Registration]:
    """The conference's registrations that match an AttendeeExportForm's cleaned data."""
    queryset = Registration.objects.filter(conference=conference)
    if filters.get("status"):
        queryset = queryset.filter(status__in=filters["status"])
    if filters.get("pre_event"):
        booked = Booking.objects.filter(registration=OuterRef("pk"), session=filters["pre_event"])
        queryset = queryset.filter(Exists(booked))
    if filters.get("country"):
        queryset = queryset.filter(country__in=filters["country"])
    if filters.get("organisation_type"):
        queryset = queryset.filter(organisation_type__in=filters["organisation_type"])
    if filters.get("registered_from") or filters.get("registered_to"):
        # Compared as dates in the conference's zone, in SQL: no datetime arithmetic to
        # overflow on year 1 or 9999.
        queryset = queryset.alias(registered_on=TruncDate("created_at", tzinfo=conference.tz))
        if filters.get("registered_from"):
            queryset = queryset.filter(registered_on__gte=filters["registered_from"])
        if filters.get("registered_to"):
            queryset = queryset.filter(registered_on__lte=filters["registered_to"])
    return queryset


# Lists ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendeeList:
    """One list ready to stream: what it is, its columns, and its rows as tuples."""

    conference: Conference
    kind: ExportRecord.Kind
    name: str
    columns: tuple[Column, ...]
    rows: QuerySet
    filters: dict


def _keep(columns: tuple[Column, ...], omit: list[str]) -> tuple[Column, ...]:
    return tuple(column for column in columns if column.personal not in omit)


def attendee_list(conference: Conference, *, filters: dict, omit: list[str]) -> AttendeeList:
    """Registrations of any status matching the filters, by registration number."""
    columns = _keep(attendee_columns(), omit)
    rows = registration_values(filter_registrations(conference, filters).order_by("number"), columns)
    return AttendeeList(conference, ExportRecord.Kind.ATTENDEES, "attendees", columns, rows, describe_filters(filters))


def check_in_list(conference: Conference, *, omit: list[str]) -> AttendeeList:
    """Confirmed attendees by family name, then given name, for the desk at the door."""
    columns = _keep(CHECK_IN_COLUMNS, omit)
    queryset = Registration.objects.filter(conference=conference, status=Registration.Status.CONFIRMED)
    rows = registration_values(queryset.order_by(*_by_name()), columns)
    return AttendeeList(conference, ExportRecord.Kind.CHECK_IN, "check-in", columns, rows, {})


def session_list(session: Session, *, omit: list[str]) -> AttendeeList:
    """Who booked a session: seats by family name, then the waiting list in its order."""
    columns = _keep(SESSION_COLUMNS, omit)
    waiting = Q(status=Booking.Status.WAITLISTED)
    queue = Window(RowNumber(), partition_by=F("status"), order_by=[F("status_changed_at"), F("id")])
    computed = {
        "seat": F("status"),
        "waiting_position": Case(When(waiting, then=queue)),
        "checked_in": Value(""),
    }
    computed |= {column.key: F(f"registration__{column.key}") for column in columns if column.key not in computed}
    bookings = Booking.objects.filter(session=session, registration__status__in=Registration.LIVE_STATUSES).order_by(
        Case(When(waiting, then=Value(1)), default=Value(0)),
        Case(When(waiting, then=queue)),
        *_by_name("registration__"),
    )
    rows = _values(bookings, columns, computed)
    name = f"session-{session.code}"
    return AttendeeList(session.conference, ExportRecord.Kind.SESSION, name, columns, rows, {"session": session.code})


# Writing ----------------------------------------------------------------------------
#
# PostgreSQL writes the file: labels, dates in the conference's zone and the formula guard
# are SQL around the list's own query, and its COPY writes that as CSV (its quoting is the
# csv module's minimal quoting: a cell with the delimiter, a quote or a line break is quoted,
# quotes doubled; an empty cell is NULL, written bare). Python only turns PostgreSQL's line
# ends into CRLF and passes the rows on, so an export costs little more than COPY of the
# query itself. The tests hold the file byte for byte to `neutralise` and Python's csv writer.

# Rows passed to the response at a time.
CHUNK_ROWS = 2000
# Chunks PostgreSQL may write ahead of the response: what memory an export holds at most.
CHUNKS_AHEAD = 4

# FORMULA_TRIGGERS and PLAIN_NUMBER as PostgreSQL regular expressions.
_SQL_TRIGGER = r"'^[=+@\t\r-]'"
_SQL_PLAIN_NUMBER = f"'^{PLAIN_NUMBER.pattern}$'"
# The code points of _SUSPECT_STARTS: a cell starting with none of them needs no guard, which
# ascii() tells far more cheaply than a regular expression.
_SQL_SUSPECT_STARTS = ", ".join(str(ord(character)) for character in sorted(_SUSPECT_STARTS))


class _Line:
    """csv.writer writes into this and hands back the line instead of buffering it."""

    def write(self, line: str) -> str:
        return line


def _labels() -> dict[str, dict[str, str]]:
    """Labels by column kind, resolved in the current language, for PostgreSQL to look up."""
    return {
        "status": {value: str(label) for value, label in Registration.Status.choices},
        "organisation_type": {value: str(label) for value, label in Registration.OrganisationType.choices},
        "booking_status": {value: str(label) for value, label in Booking.Status.choices},
        "country": {code: str(name) for code, name in countries},
        "language": {code: str(name) for code, name in settings.LANGUAGES},
    }


def _cell(column: Column, value: str, labels: dict) -> tuple[str, list]:
    """SQL of one cell as written (NULL when empty) but for the formula guard, and its parameters."""
    if column.kind == "text":
        return f"NULLIF({value}::text, '')", []
    if column.kind == "datetime":
        # In the zone set for the transaction, as isoformat(timespec="seconds") writes it.
        return f"""to_char({value}, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM')""", []
    if column.kind == "yes_no":
        yes, no = (neutralise(gettext(word)) for word in ("yes", "no"))
        return f"CASE WHEN {value} THEN %s ELSE %s END", [yes, no]
    # A value without a label is written as stored.
    return f"NULLIF(COALESCE(%s::jsonb ->> {value}, {value}), '')", [json.dumps(labels[column.kind])]


# Kinds whose cells never start like a formula: an ISO 8601 date, and yes/no guarded in Python.
_SAFE_KINDS = frozenset({"datetime", "yes_no"})


def _guarded(cell: str) -> str:
    """`neutralise` in SQL. Most cells start with none of the suspect characters, which one
    ascii() tells; only the others are looked at more closely."""
    stripped = f"ltrim({cell}, ' ')"
    return (
        f"CASE WHEN ascii({cell}) IN ({_SQL_SUSPECT_STARTS}) AND {stripped} ~ {_SQL_TRIGGER}"
        f" AND {stripped} !~ {_SQL_PLAIN_NUMBER} THEN '''' || {cell} ELSE {cell} END"
    )


def _copy_sql(export: AttendeeList, dialect: str) -> str:
    """COPY of the list's own query, wrapped so that each column is its cell as written.

    The cells are computed in a subquery PostgreSQL keeps apart (ORDER BY, OFFSET 0), so the
    rows keep the list's order and the guard reads each cell without computing it again.
    COPY takes no parameters: they are bound by psycopg2's quoting, as for any query."""
    rows_sql, rows_params = export.rows.query.sql_with_params()
    labels = _labels()
    positions = range(len(export.columns))
    cells, params = [], []
    for i, column in zip(positions, export.columns, strict=True):
        sql, cell_params = _cell(column, f"raw{i}", labels)
        cells.append(sql)
        params += cell_params
    written = [
        f"cell{i}" if column.kind in _SAFE_KINDS else _guarded(f"cell{i}")
        for i, column in zip(positions, export.columns, strict=True)
    ]
    raw, named = (", ".join(f"{name}{i}" for i in positions) for name in ("raw", "cell"))
    # Only names and constants of this module are written into the SQL; values are parameters.
    formatting = f"SELECT {', '.join(cells)} FROM ({rows_sql}) AS raw ({raw}) OFFSET 0"  # noqa: S608  # nosec B608
    query = f"SELECT {', '.join(written)} FROM ({formatting}) AS cells ({named})"  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        bound = cursor.mogrify(query, params + list(rows_params)).decode()
    return f"COPY ({bound}) TO STDOUT WITH (FORMAT csv, DELIMITER '{DELIMITERS[dialect]}')"


class _Chunks:
    """Takes what COPY writes, a row at a time, and queues it in chunks of CHUNK_ROWS rows with CRLF ends."""

    def __init__(self, chunks: queue.Queue) -> None:
        self.chunks = chunks
        self.rows: list[bytes] = []

    def write(self, row: bytes) -> None:
        # Each write is one whole row ending in "\n"; a line break inside a quoted cell stays.
        self.rows.append(row[:-1])
        if len(self.rows) == CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.chunks.put((len(self.rows), b"\r\n".join(self.rows) + b"\r\n"))
            self.rows = []


_END = object()


def _copied(sql: str) -> Iterator[tuple[int, bytes]]:
    """Run the COPY and yield its rows as (how many, bytes) while PostgreSQL still writes.

    psycopg2's copy_expert returns only at the end, so it runs in a thread of its own, on
    this request's connection, at most CHUNKS_AHEAD chunks ahead of the response. If the
    response ends early (the client went away) the COPY is cancelled."""
    chunks: queue.Queue = queue.Queue(maxsize=CHUNKS_AHEAD)
    with connection.cursor() as cursor:

        def copy() -> None:
            try:
                writer = _Chunks(chunks)
                cursor.copy_expert(sql, writer)
                writer.flush()
                chunks.put(_END)
            except BaseException as error:  # raised again on the response's side
                chunks.put(error)

        copying = threading.Thread(target=copy, name="csv-export", daemon=True)
        copying.start()
        try:
            while (chunk := chunks.get()) is not _END:
                if isinstance(chunk, Exception):
                    raise chunk
                yield chunk
        finally:
            if copying.is_alive():
                connection.connection.cancel()
                while copying.is_alive():  # emptied, so that the COPY never waits for room
                    with suppress(queue.Empty):
                        chunks.get(timeout=0.05)
            copying.join()


def _header(column: Column, conference: Conference) -> str:
    if column.kind == "datetime":
        return f"{column.label} ({conference.timezone})"
    return str(column.label)


def _stream(export: AttendeeList, record: ExportRecord, dialect: str) -> Iterator[bytes]:
    header = [_header(column, export.conference) for column in export.columns]
    header_line = csv.writer(_Line(), delimiter=DELIMITERS[dialect], lineterminator="\r\n").writerow(header)
    rows = 0
    finished = False
    try:
        # The header goes out at once, so the browser shows the download while the query runs.
        yield ((BYTE_ORDER_MARK if dialect != Dialect.CSV else "") + header_line).encode()
        with transaction.atomic():
            # PostgreSQL writes dates in the conference's zone: set for this transaction, and
            # set back after the list when it ran inside a longer one. If the list fails
            # halfway, rolling back (to the savepoint) undoes it.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT current_setting('TimeZone'), set_config('TimeZone', %s, true)",
                    [export.conference.timezone],
                )
                ((zone_before, _),) = cursor.fetchall()
            # Closed before the transaction ends, even when the client goes away: the COPY's
            # thread is done with the connection before anything else uses it.
            with closing(_copied(_copy_sql(export, dialect))) as copied:
                for count, chunk in copied:
                    rows += count
                    yield chunk
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('TimeZone', %s, true)", [zone_before])
        finished = True
    finally:
        ExportRecord.objects.filter(pk=record.pk).update(rows=rows, finished_at=timezone.now() if finished else None)


def export_response(export: AttendeeList, *, user, dialect: str) -> StreamingHttpResponse:
    """Record the export and stream it as a CSV attachment named after conference and time.

    RFC 4180: CRLF line ends, fields with the delimiter, a quote or a line break quoted,
    quotes doubled. Dates are ISO 8601 with the offset of the conference's zone.
    """
    conference = export.conference
    record = ExportRecord.objects.create(
        conference=conference,
        user=user,
        user_email=user.email,
        kind=export.kind,
        filters={**export.filters, "format": dialect},
        columns=[column.key for column in export.columns],
    )
    stamp = timezone.localtime(record.created_at, conference.tz).strftime("%Y%m%d-%H%M")
    filename = f"{conference.slug}-{export.name}-{stamp}.csv"
    response = StreamingHttpResponse(
        _stream(export, record, dialect),
        content_type="text/csv; charset=utf-8; header=present",
    )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    # Personal data: never kept by a browser or proxy cache.
    response["Cache-Control"] = "private, no-store"
    return response
