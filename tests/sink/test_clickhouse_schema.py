"""Server test for deploy/clickhouse: starts a private ClickHouse with scripts/start-clickhouse
(loopback, free port, temp dir), applies the versioned DDL twice, inserts every table's rows
over HTTP `INSERT ... FORMAT JSONEachRow` twice with the same row ids (a retried batch), and
proves one row per row_id with FINAL, GROUP BY row_id and after OPTIMIZE ... FINAL. The
server is stopped even when a test fails."""
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


@pytest.fixture(scope="module")
def server():
    work = tempfile.mkdtemp(prefix="dita-ch-test-")
    env = dict(os.environ, DITA_SERVER_OWNER_PID=str(os.getpid()))
    try:
        started = subprocess.run([str(ROOT / "scripts" / "start-clickhouse"), work + "/ch"],
                                 capture_output=True, text=True, env=env, timeout=60)
        assert started.returncode == 0, (
            "scripts/start-clickhouse failed (run scripts/setup-servers.sh):\n" +
            started.stdout + started.stderr)
        address = started.stdout.strip().splitlines()[-1]
        assert re.fullmatch(r"127\.0\.0\.1:\d+", address), address
        yield address
    finally:
        subprocess.run([str(ROOT / "scripts" / "stop-server"), work + "/ch"],
                       capture_output=True, timeout=60)
        shutil.rmtree(work, ignore_errors=True)


def query(address, sql, body=None):
    """POSTs sql (or sql in the URL and body as data); returns the response text."""
    if body is None:
        url, data = "http://%s/" % address, sql.encode()
    else:
        url, data = "http://%s/?query=%s" % (address, urllib.parse.quote(sql)), body.encode()
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("X-ClickHouse-User", "default")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read().decode()
    except urllib.error.HTTPError as error:
        raise AssertionError("HTTP %d: %s" % (error.code, error.read().decode()))


def apply_schema(address):
    return subprocess.run(["python3", str(DDL_DIR / "apply_schema.py"), address],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def schema(server):
    first = apply_schema(server)
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
    again = apply_schema(schema)
    assert again.returncode == 0, again.stderr
    assert "0 file(s) applied" in again.stdout
    newest = max(int(p.name[:3]) for p in (ROOT / "deploy" / "clickhouse").glob("[0-9][0-9][0-9]_*.sql"))
    assert query(schema, "SELECT max(version) FROM dita.schema_version").strip() == str(newest)
    tables = set(query(schema, "SELECT name FROM system.tables WHERE database = 'dita'").split())
    assert tables == set(TABLES) | {"schema_version"}


def test_every_table_is_a_replacing_merge_tree_keyed_by_row_id(schema):
    for table in TABLES:
        names = [name for name, _ in columns(schema, table)]
        assert names[:len(COMMON)] == COMMON, table
        # SHOW CREATE rather than system.tables.sorting_key, which 18.16 does not have.
        create = query(schema, "SHOW CREATE TABLE dita.%s" % table).replace("\\n", " ")
        assert "ENGINE = ReplacingMergeTree()" in create, create
        assert re.search(r"ORDER BY row_id\b", create), create


def test_retried_batches_count_once_per_row_id(schema):
    for table in TABLES:
        cols = columns(schema, table)
        names = [name for name, _ in cols]
        rows = [{name: sample_value(name, type_, i) for name, type_ in cols} for i in range(5)]
        body = "".join(json.dumps(row) + "\n" for row in rows)
        insert = "INSERT INTO dita.%s (%s) FORMAT JSONEachRow" % (table, ", ".join(names))
        query(schema, insert, body)
        query(schema, insert, body)  # the retry after an ambiguous timeout

        raw = int(query(schema, "SELECT count() FROM dita.%s" % table))
        assert raw in (5, 10), table  # a background merge may already have collapsed it
        assert int(query(schema, "SELECT count() FROM dita.%s FINAL" % table)) == 5, table
        grouped = query(schema, "SELECT count() FROM (SELECT row_id FROM dita.%s GROUP BY row_id)"
                                % table)
        assert int(grouped) == 5, table
        query(schema, "OPTIMIZE TABLE dita.%s FINAL" % table)
        assert int(query(schema, "SELECT count() FROM dita.%s" % table)) == 5, table
        back = [json.loads(line) for line in query(
            schema, "SELECT row_id FROM dita.%s ORDER BY row_id FORMAT JSONEachRow" % table
        ).splitlines()]
        assert [r["row_id"] for r in back] == sorted(r["row_id"] for r in rows), table


def test_decimals_keep_exact_values(schema):
    row = {name: sample_value(name, type_, 1) for name, type_ in columns(schema, "trade_exit_legs")}
    row.update(row_id="exact:1", leg_realized_pnl=0.1, leg_fee=0.2)
    names = list(row)
    body = json.dumps(row).replace("0.1,", "12345678901234567.123456789012,", 1) + "\n"
    query(schema, "INSERT INTO dita.trade_exit_legs (%s) FORMAT JSONEachRow" % ", ".join(names),
          body)
    got = query(schema, "SELECT toString(leg_realized_pnl + leg_fee) FROM dita.trade_exit_legs "
                        "FINAL WHERE row_id = 'exact:1'").strip()
    assert got == "12345678901234567.323456789012"


def test_ddl_stays_inside_the_clickhouse_18_16_subset():
    # These fail on Debian's 18.16 (reference §E.3); the server test above proves the rest.
    forbidden = ["DateTime64", "LowCardinality", "Map(", " TTL ", "CODEC(", "IPv4", "JSON)"]
    for path in sorted(DDL_DIR.glob("[0-9][0-9][0-9]_*.sql")):
        code = "\n".join(l for l in path.read_text().splitlines() if not l.strip().startswith("--"))
        for token in forbidden:
            assert token not in code, "%s uses %s" % (path.name, token)
