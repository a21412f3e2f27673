"""The floor: /healthz and a static file, the fastest answers the site gives. Every other
benchmark is read against these figures.

    python -m bench.baseline [--workers 4] [--duration 10] [--connections 16]
"""

import sys

from bench import runner


def main() -> None:
    args = runner.arguments(__doc__.splitlines()[0]).parse_args()
    with runner.running_site(
        sessions=args.sessions, attendees=args.attendees, workers=args.workers, threads=args.threads, seed=args.seed
    ) as site:
        stylesheet = site.static_url("css/site.css")
        results = [
            site.measure("/healthz", label="`/healthz` (database, cache and broker checked)", **load(args)),
            site.measure(stylesheet, label=f"static file `{stylesheet}` (whitenoise)", **load(args)),
        ]
    seeded = (
        f"Seeding the bench conference ({args.sessions:,} sessions, {args.attendees:,} attendees) took "
        f"{site.seed_seconds:.1f} s (`seed_demo` with bulk inserts, start-up included).\n\n"
        if site.seed_seconds
        else ""
    )
    runner.write_section(
        "baseline",
        title="Baseline: /healthz and a static file",
        command=" ".join(["python -m bench.baseline", *sys.argv[1:]]),
        body=seeded + runner.table(results),
        site=site,
    )


def load(args) -> dict:
    return {"duration": args.duration, "connections": args.connections}


if __name__ == "__main__":
    main()
