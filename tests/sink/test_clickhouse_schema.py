"""Server test for deploy/clickhouse, against two ClickHouse versions: Debian's 18.16 server
(scripts/start-clickhouse) and current ClickHouse (scripts/start-chdb: the chdb engine, 26.9
with chdb 4.4.0, behind tests/sink/chdb_http_server.py; the SQL, table engines, merges and
JSONEachRow parsing are ClickHouse's own, the HTTP layer is our shim). For each (loopback, free
port, temp dir) it applies the versioned DDL twice, inserts every table's rows over HTTP
`INSERT ... FORMAT JSONEachRow` twice with the same row ids (a retried batch), and proves one
row per row_id with FINAL, GROUP BY row_id and after OPTIMIZE ... FINAL. Every server is stopped
even when a test fails; a missing server (or chdb) fails the test, it is never skipped."""
import collections
import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request

import pytest

ROOT = pathlib.Path(os.environ.get("DITA_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
DDL_DIR = ROOT / "deploy" / "clickhouse"
TABLES = ["transitions", "trade_entries", "trade_exits", "trade_exit_legs", "account_snapshots",
          "diagnostics", "control_changes", "venue_messages", "reconcile_events", "kernel_inputs"]
COMMON = ["row_id", "strategy", "seq", "ts", "ts_ms"]


class Server(collections.namedtuple("Server", "kind address version")):
    """A running server: kind is a SERVERS key, address HOST:PORT, version what it reports."""


# kind -> (start script, check of SELECT version()).
SERVERS = {
    "clickhouse-18.16": ("start-clickhouse", lambda v: v.startswith("18.16.")),
    "chdb-current": ("start-chdb", lambda v: int(v.split(".")[0]) >= 24),
}


@pytest.fixture(scope="module", params=sorted(SERVERS))
def server(request):
    kind = request.param
    script, version_ok = SERVERS[kind]
    work = tempfile.mkdtemp(prefix="dita-ch-test-")
    env = dict(os.environ, DITA_SERVER_OWNER_PID=str(os.getpid()))
    try:
        started = subprocess.run([str(ROOT / "scripts" / script), work + "/ch"],
                                 capture_output=True, text=True, env=env, timeout=60)
        assert started.returncode == 0, (
            "scripts/%s failed (run scripts/setup-servers.sh):\n" % script +
            started.stdout + started.stderr)
        address = started.stdout.strip().splitlines()[-1]
        assert re.fullmatch(r"127\.0\.0\.1:\d+", address), address
        version = query(address, "SELECT version()").strip()
        assert version_ok(version), "%s reports version %s" % (kind, version)
        yield Server(kind, address, version)
    finally:
        subprocess.run([str(ROOT / "scripts" / "stop-server"), work + "/ch"],
                       capture_output=True, timeout=60)
        shutil.rmtree(work, ignore_errors=True)


def post(address, sql, body=None):
    """POSTs sql (or sql in the URL and body as data); returns (HTTP status, response text)."""
    if body is None:
        url, data = "http://%s/" % address, sql.encode()
    else:
        url, data = "http://%s/?query=%s" % (address, urllib.parse.quote(sql)), body.encode()
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("X-ClickHouse-User", "default")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def query(address, sql, body=None):
    """POSTs sql (or sql in the URL and body as data); returns the response text."""
    status, text = post(address, sql, body)
    if status != 200:
        raise AssertionError("HTTP %d: %s" % (status, text))
    return text


def apply_schema(address):
    return subprocess.run(["python3", str(DDL_DIR / "apply_schema.py"), address],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def schema(server):
    first = apply_schema(server.address)
    assert first.returncode == 0, first.stderr
    return server


def columns(address, table):
    rows = query(address, "DESCRIBE TABLE dita.%s FORMAT JSONEachRow" % table)
    return [(r["name"], r["type"]) for r in map(json.loads, rows.splitlines())]


def sample_value(name, type_, index):
    """A value for every column, so inserts send every column (18.16 fills omitted ones with
    type defaults, not DEFAULT expressions)."""
    if name == "row_id":
        return "%s:r%d" % ("sample", index)
    if type_.startswith("Nullable("):
        return None if index % 2 else 1500
    if type_.startswith("DateTime"):
        return "2026-11-24 03:%02d:00" % index
    if type_.startswith("Decimal"):
        return float("%d.125" % index)  # unquoted JSON number, as 18.16 requires
    if type_.startswith(("UInt", "Int")):
        return index
    return "%s-%d" % (name, index)


def test_ddl_is_versioned_and_reapplying_it_changes_nothing(schema):
    address = schema.address
    again = apply_schema(address)
    assert again.returncode == 0, again.stderr
    assert "0 file(s) applied" in again.stdout
    newest = max(int(p.name[:3]) for p in (ROOT / "deploy" / "clickhouse").glob("[0-9][0-9][0-9]_*.sql"))
    assert query(address, "SELECT max(version) FROM dita.schema_version").strip() == str(newest)
    tables = set(query(address, "SELECT name FROM system.tables WHERE database = 'dita'").split())
    assert tables == set(TABLES) | {"schema_version"}


def test_every_table_is_a_replacing_merge_tree_keyed_by_row_id(schema):
    # 18.16 prints the engine as written, current servers drop the empty argument list: both
    # mean a ReplacingMergeTree without a version column.
    engine = ("ENGINE = ReplacingMergeTree()" if schema.kind == "clickhouse-18.16"
              else "ENGINE = ReplacingMergeTree ")
    for table in TABLES:
        names = [name for name, _ in columns(schema.address, table)]
        assert names[:len(COMMON)] == COMMON, table
        # SHOW CREATE rather than system.tables.sorting_key, which 18.16 does not have.
        create = query(schema.address, "SHOW CREATE TABLE dita.%s" % table).replace("\\n", " ")
        assert engine in create, create
        assert re.search(r"PARTITION BY toYYYYMM\(ts\)\s+ORDER BY row_id\b", create), create


def test_retried_batches_count_once_per_row_id(schema):
    address = schema.address
    for table in TABLES:
        cols = columns(address, table)
        names = [name for name, _ in cols]
        rows = [{name: sample_value(name, type_, i) for name, type_ in cols} for i in range(5)]
        body = "".join(json.dumps(row) + "\n" for row in rows)
        insert = "INSERT INTO dita.%s (%s) FORMAT JSONEachRow" % (table, ", ".join(names))
        query(address, insert, body)
        query(address, insert, body)  # the retry after an ambiguous timeout

        raw = int(query(address, "SELECT count() FROM dita.%s" % table))
        assert raw in (5, 10), table  # a background merge may already have collapsed it
        assert int(query(address, "SELECT count() FROM dita.%s FINAL" % table)) == 5, table
        grouped = query(address, "SELECT count() FROM (SELECT row_id FROM dita.%s GROUP BY row_id)"
                                 % table)
        assert int(grouped) == 5, table
        query(address, "OPTIMIZE TABLE dita.%s FINAL" % table)
        assert int(query(address, "SELECT count() FROM dita.%s" % table)) == 5, table
        back = [json.loads(line) for line in query(
            address, "SELECT row_id FROM dita.%s ORDER BY row_id FORMAT JSONEachRow" % table
        ).splitlines()]
        assert [r["row_id"] for r in back] == sorted(r["row_id"] for r in rows), table


def test_decimals_keep_exact_values(schema):
    address = schema.address
    row = {name: sample_value(name, type_, 1)
           for name, type_ in columns(address, "trade_exit_legs")}
    row.update(row_id="exact:1", leg_realized_pnl=0.1, leg_fee=0.2)
    names = list(row)
    body = json.dumps(row).replace("0.1,", "12345678901234567.123456789012,", 1) + "\n"
    query(address, "INSERT INTO dita.trade_exit_legs (%s) FORMAT JSONEachRow" % ", ".join(names),
          body)
    got = query(address, "SELECT toString(leg_realized_pnl + leg_fee) FROM dita.trade_exit_legs "
                         "FINAL WHERE row_id = 'exact:1'").strip()
    assert got == "12345678901234567.323456789012"


def test_json_each_row_differences_between_versions(schema):
    """What the writer relies on works on both; where the versions differ, the difference is
    pinned here (and documented in docs/sinks.md) so it cannot change unnoticed."""
    address = schema.address
    old = schema.kind == "clickhouse-18.16"
    query(address, "CREATE DATABASE IF NOT EXISTS dita_scratch")
    query(address, "CREATE TABLE IF NOT EXISTS dita_scratch.rows (row_id String, "
                   "qty Decimal(38, 12)) ENGINE = ReplacingMergeTree() ORDER BY row_id")
    insert = "INSERT INTO dita_scratch.rows (row_id, qty) FORMAT JSONEachRow"
    # Unquoted decimals: both.
    assert post(address, insert, '{"row_id": "a", "qty": 1.5}\n')[0] == 200
    # Quoted decimals: 18.16 refuses them (Code 27), current servers accept them.
    status, text = post(address, insert, '{"row_id": "b", "qty": "2.5"}\n')
    assert (status != 200 and "Code: 27" in text) if old else status == 200, (status, text)
    # A key that is not a listed column: 18.16 fails the insert (Code 117); current servers skip
    # it (input_format_skip_unknown_fields is on by default) and insert the row.
    status, text = post(address, insert, '{"row_id": "c", "qty": 3, "extra": 1}\n')
    assert (status != 200 and "Code: 117" in text) if old else status == 200, (status, text)
    got = query(address,
                "SELECT row_id, toFloat64(qty) FROM dita_scratch.rows FINAL ORDER BY row_id")
    assert got.splitlines() == ["a\t1.5"] + ([] if old else ["b\t2.5", "c\t3"])
    query(address, "DROP TABLE dita_scratch.rows")
    query(address, "DROP DATABASE dita_scratch")


def test_errors_carry_clickhouse_codes_and_http_statuses(schema):
    """The writer keeps the HTTP status and the server's `Code: N` (4xx = permanent); both
    versions, real server and shim, answer in that shape."""
    address = schema.address
    old = schema.kind == "clickhouse-18.16"
    status, text = post(address, "SELECT count() FROM dita.no_such_table")
    assert status == 404 and re.match(r"Code: 60\b", text), (status, text)
    status, text = post(address, "SELECT 1; SELECT 2")
    assert status == 400 and re.match(r"Code: 62\b", text), (status, text)
    assert "Multi-statements are not allowed" in text, text
    status, text = post(address, "INSERT INTO dita.trade_entries (row_id, qty) FORMAT JSONEachRow",
                        '{"row_id": "bad", "qty": "zz"}\n')
    # A decimal that does not parse (Code 27): 18.16 answers 500 (retryable for the writer),
    # current servers 400 (permanent; their HTTP status map grew). The pipeline retries both.
    assert status == (500 if old else 400) and re.match(r"Code: 27\b", text), (status, text)
    assert query(address, "SELECT count() FROM dita.trade_entries WHERE row_id = 'bad'") == "0\n"


def test_ddl_stays_inside_the_clickhouse_18_16_subset():
    # These fail on Debian's 18.16 (reference §E.3); the server test above proves the rest.
    forbidden = ["DateTime64", "LowCardinality", "Map(", " TTL ", "CODEC(", "IPv4", "JSON)"]
    for path in sorted(DDL_DIR.glob("[0-9][0-9][0-9]_*.sql")):
        code = "\n".join(l for l in path.read_text().splitlines() if not l.strip().startswith("--"))
        for token in forbidden:
            assert token not in code, "%s uses %s" % (path.name, token)
