"""Attendee lists as CSV from the `bench` conference: seconds and peak memory of the server
process for each list, beside PostgreSQL's own `COPY (...) TO STDOUT WITH CSV` of the same
query in the same run (the floor).

    python -m bench.export [--attendees 100000] [--no-seed]

One gunicorn worker serves every download, so its memory is the server's. Its peak is read
from the kernel (VmHWM in /proc/<pid>/status, reset before each download through
/proc/<pid>/clear_refs), so no spike between two samples is missed.
"""

import http.client
import json
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from bench import runner

STAFF_EMAIL = "staff@example.org"
READ_SIZE = 64 * 1024
# Each download and each COPY runs this many times: the median time and the highest peak are
# reported, as other work on the shared machine can slow any single run.
ROUNDS = 3

# The lists measured: label, path, and the list and filters to build the same query for COPY.
LISTS = [
    ("attendee list, all columns", "/bench/staff/attendees.csv", "attendees", {}),
    ("attendee list, one country (1/15)", "/bench/staff/attendees.csv?country=PL", "attendees", {"country": ["PL"]}),
    ("check-in list, sorted by family name", "/bench/staff/check-in.csv", "check_in", {}),
]

# Prints, from inside the project, how long COPY of an export's own query takes (median).
COPY_CODE = """
import json, statistics, time
from django.db import connection
from agenda.models import Conference
from registration import exports

class Sink:
    size = 0
    def write(self, data):
        self.size += len(data)

conference = Conference.objects.get(slug="bench")
export = {{
    "attendees": lambda: exports.attendee_list(conference, filters={filters}, omit=[]),
    "check_in": lambda: exports.check_in_list(conference, omit=[]),
}}["{kind}"]()
sql, params = export.rows.query.sql_with_params()
with connection.cursor() as cursor:
    query = cursor.mogrify(sql, params).decode()
    times = []
    for _ in range({rounds}):
        sink = Sink()
        started = time.perf_counter()
        cursor.copy_expert(f"COPY ({{query}}) TO STDOUT WITH CSV HEADER", sink)
        times.append(time.perf_counter() - started)
    print(json.dumps({{"seconds": statistics.median(times), "bytes": sink.size}}))
"""


@dataclass(frozen=True)
class Download:
    label: str
    rows: int
    bytes: int
    first_byte_s: float
    seconds: float
    rss_before_mb: float
    peak_rss_mb: float
    copy_seconds: float
    copy_bytes: int


def memory_mb(pid: int, field: str) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith(f"{field}:"))
    return int(kilobytes) / 1024


def download(site: runner.Site, path: str, cookie: str) -> tuple[int, int, float, float]:
    """GET path to the end: (rows, bytes, seconds to the first byte, seconds in all)."""
    headers = {**runner.FORWARDED_HTTPS, "Cookie": cookie}
    started = time.perf_counter()
    with closing(http.client.HTTPConnection("127.0.0.1", site.port, timeout=600)) as conn:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        if response.status != 200:
            sys.exit(f"bench: {path} answered {response.status}:\n{response.read()[:2000].decode(errors='replace')}")
        first = response.read1(READ_SIZE)
        first_byte = time.perf_counter() - started
        size, lines = len(first), first.count(b"\n")
        while chunk := response.read1(READ_SIZE):
            size += len(chunk)
            lines += chunk.count(b"\n")
    # The bench data holds no line breaks inside cells: one line per row, less the header.
    return lines - 1, size, first_byte, time.perf_counter() - started


def copy_floor(site: runner.Site, kind: str, filters: dict, rounds: int = ROUNDS) -> dict:
    code = COPY_CODE.format(kind=kind, filters=filters, rounds=rounds)
    return json.loads(site.manage("shell", "--no-imports", "-c", code))


def measure(site: runner.Site, worker: int, cookie: str, label: str, path: str, kind: str, filters: dict) -> Download:
    before = memory_mb(worker, "VmRSS")
    runs = []
    for _ in range(ROUNDS):
        Path(f"/proc/{worker}/clear_refs").write_text("5")  # resets the peak (VmHWM) to the current RSS
        rows, size, first_byte, seconds = download(site, path, cookie)
        runs.append((first_byte, seconds, memory_mb(worker, "VmHWM")))
    copy = copy_floor(site, kind, filters)
    return Download(
        label,
        rows,
        size,
        first_byte_s=median(run[0] for run in runs),
        seconds=median(run[1] for run in runs),
        rss_before_mb=before,
        peak_rss_mb=max(run[2] for run in runs),
        copy_seconds=copy["seconds"],
        copy_bytes=copy["bytes"],
    )


def report(downloads: list[Download]) -> str:
    lines = [
        "| list | rows | size | first byte | all rows | rows/s | RSS before | peak RSS | `COPY` of the same query "
        "| ÷ `COPY` |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {d.label} | {d.rows:,} | {d.bytes / 2**20:.1f} MiB | {d.first_byte_s * 1000:.0f} ms | {d.seconds:.2f} s "
        f"| {d.rows / d.seconds:,.0f} | {d.rss_before_mb:.0f} MiB | {d.peak_rss_mb:.0f} MiB "
        f"| {d.copy_seconds:.2f} s ({d.copy_bytes / 2**20:.1f} MiB) | {d.seconds / d.copy_seconds:.2f}× |"
        for d in downloads
    ]
    return "\n".join(lines)


def main() -> None:
    parser = runner.arguments(__doc__.splitlines()[0])
    parser.set_defaults(workers=1)
    args = parser.parse_args()
    with runner.running_site(
        sessions=args.sessions, attendees=args.attendees, workers=args.workers, threads=args.threads, seed=args.seed
    ) as site:
        worker = site.pids()[1]
        cookie = site.session_cookie(STAFF_EMAIL)
        # Warm up, unmeasured: the worker's imports and connection, PostgreSQL's buffers.
        download(site, "/bench/staff/attendees.csv?status=rejected", cookie)
        copy_floor(site, "attendees", {}, rounds=1)
        downloads = [measure(site, worker, cookie, *entry) for entry in LISTS]
    body = (
        report(downloads)
        + "\n\n"
        + f"""Times are the median of {ROUNDS} runs. *First byte*: the header line, sent before the
query runs; *all rows*: until the last byte arrived. *RSS* is the resident memory of the one
gunicorn worker that served the downloads; *peak* is the kernel's high-water mark during
them, so the memory an export needs is *peak* less *before*: the same for {args.attendees:,}
rows as for a fifteenth of them. *`COPY`* is PostgreSQL writing the same query as CSV to a
client that discards it (`psycopg2` `copy_expert`, the export's own SQL, without labels or
date formatting): the floor. The export is PostgreSQL's `COPY` too, of that query wrapped in
its formatting (labels, ISO 8601 dates in the conference's zone, formula neutralising), streamed
while PostgreSQL writes; what it adds to the floor is that formatting, the line ends turned into
CRLF a chunk at a time, the request itself (session, permissions, the export record) and the
trip through gunicorn; *÷ `COPY`* is that ratio."""
    )
    runner.write_section(
        "export",
        title=f"Attendee lists as CSV ({args.attendees:,} attendees)",
        command=" ".join(["python -m bench.export", *sys.argv[1:]]),
        body=body,
        site=site,
    )


if __name__ == "__main__":
    main()
