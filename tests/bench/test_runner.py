from bench.runner import Result, parse_wrk, table, write_section

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:40123/static/css/site.183fc61cfb8a.css
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.65ms    7.62ms    1.20s    96.53%
    Req/Sec     2.23k   768.34     4.49k    77.50%
  Latency Distribution
     50%  812.00us
     75%    3.99ms
     90%    6.01ms
     99%    1.02s
  44425 requests in 10.08s, 153.71MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:   4407.33
Transfer/sec:     15.25MB
"""


def test_parse_wrk_reads_rate_percentiles_and_errors():
    result = parse_wrk(WRK_OUTPUT, label="static", connections=16)

    assert result == Result(
        label="static",
        requests=44425,
        seconds=10.08,
        rps=4407.33,
        p50_ms=0.812,
        p99_ms=1020.0,
        bad_responses=7,
        socket_errors=5,
        connections=16,
    )
    assert result.errors == 12


def test_parse_wrk_without_error_lines_counts_none():
    clean = "\n".join(line for line in WRK_OUTPUT.splitlines() if "errors" not in line and "Non-2xx" not in line)

    assert parse_wrk(clean, label="static", connections=16).errors == 0


def test_write_section_replaces_only_its_own_section(tmp_path):
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\nIntro.\n\n<!-- bench:other:start -->\nOther figures\n<!-- bench:other:end -->\n")
    result = parse_wrk(WRK_OUTPUT, label="static", connections=16)

    write_section("baseline", title="Baseline", command="python -m bench.baseline", body=table([result]), path=docs)
    write_section("baseline", title="Baseline again", command="python -m bench.baseline", body="New body", path=docs)

    text = docs.read_text()
    assert text.startswith("# Benchmarks\n\nIntro.\n")
    assert "Other figures" in text
    assert text.count("<!-- bench:baseline:start -->") == 1
    assert "## Baseline again" in text
    assert "New body" in text
    assert "4,407" not in text
    assert "Measured " in text
    assert " cores (" in text
