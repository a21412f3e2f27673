"""`python -m bench`: the floors and the public pages in one interleaved run, each page's
share of the bare WSGI floor and whether it meets its goal (bench.floor), written to the
`pages` section of docs/benchmarks.md."""

from bench import floor

floor.main(command="python -m bench", key="pages", title="Public pages against their floors and pretalx")
