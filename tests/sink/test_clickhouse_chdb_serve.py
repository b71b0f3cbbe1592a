"""DITA's C++ ClickHouse writer against current ClickHouse: `dita serve --venue mock --mode
DEBUG` with DITA_V2_CLICKHOUSE_URL pointed at scripts/start-chdb (chdb: ClickHouse 26.9's
engine behind tests/sink/chdb_http_server.py), trading through `dita intent` (one trade, entry
and a two-leg exit).

1. The schema is not applied yet: the writer's inserts fail with ClickHouse's own error, the
   sink goes DOWN with that error in `dita status`, rows wait in the spool.
2. deploy/clickhouse/apply_schema.py: the spool drains, every row arrives once.
3. The spool is deleted and the server restarted: it re-spools every journaled input and the
   writer re-sends every row with the same row ids (a retried batch, end to end); FINAL,
   GROUP BY row_id and OPTIMIZE FINAL count each row once, and the values are exact.

The `dita` executable comes from $DITA_EXECUTABLE (set by ctest) or $DITA_BINARY_DIR/src/cli/dita.
Everything runs on loopback in a temp dir; processes, shared-memory regions and dirs are removed
even when the test fails. A missing chdb fails the test (scripts/setup-servers.sh installs it).
"""
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

ROOT = pathlib.Path(os.environ.get("DITA_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
# Tables whose rows one DEBUG trade produces, with the rows expected for it (None: at least 1).
EXPECTED_ROWS = {"trade_entries": 1, "trade_exits": 1, "trade_exit_legs": 2,
                 "account_snapshots": None, "transitions": None, "kernel_inputs": None}


def dita_executable():
    path = os.environ.get("DITA_EXECUTABLE")
    if not path and os.environ.get("DITA_BINARY_DIR"):
        path = os.path.join(os.environ["DITA_BINARY_DIR"], "src", "cli", "dita")
    assert path, "set DITA_EXECUTABLE (or DITA_BINARY_DIR) to the built `dita`; ctest sets it"
    assert os.access(path, os.X_OK), "%s is not an executable; build the `dita` target" % path
    return path


def query(address, sql):
    request = urllib.request.Request("http://%s/" % address, data=sql.encode(), method="POST")
    request.add_header("X-ClickHouse-User", "default")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read().decode()
    except urllib.error.HTTPError as error:
        raise AssertionError("HTTP %d: %s" % (error.code, error.read().decode()))


class Dita:
    """One `dita serve` instance in `work`, plus the `dita status` / `dita intent` clients."""

    def __init__(self, work, clickhouse_address):
        self.binary = dita_executable()
        self.work = work
        self.instance = "chdbserve%d" % os.getpid()
        self.strategy = "chs%d" % os.getpid()
        self.env = dict(os.environ,
                        DITA_V2_CLICKHOUSE_URL="http://" + clickhouse_address,
                        DITA_V2_HAZELCAST="OFF",
                        DITA_V2_STRATEGY=self.strategy,
                        DITA_V2_SPOOL_DIR=os.path.join(work, "spool"))
        self.process = None
        self.starts = 0

    def run(self, *args, timeout=20):
        return subprocess.run([self.binary, *args], capture_output=True, text=True,
                              env=self.env, cwd=self.work, timeout=timeout)

    def status(self):
        result = self.run("status", "--instance", self.instance, "--json")
        if result.returncode != 0:
            return None
        try:
            return json.loads(result.stdout)
        except ValueError:
            return None

    def wait_for(self, done, timeout=30):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.status() or last
            if last is not None and done(last):
                return last
            time.sleep(0.05)
        raise AssertionError("timed out; last status:\n%s\nlog:\n%s"
                             % (json.dumps(last, indent=1), self.log()))

    def start(self):
        self.starts += 1
        log = open(os.path.join(self.work, "serve-%d.log" % self.starts), "w")
        try:
            self.process = subprocess.Popen(
                [self.binary, "serve", "--instance", self.instance, "--journal",
                 os.path.join(self.work, "kernel.journal"), "--venue", "mock", "--mode", "DEBUG"],
                stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.work)
        finally:
            log.close()
        self.wait_for(lambda s: s["writer"]["pid"] == self.process.pid and
                      s["writer"]["liveness"] == "ALIVE" and s["kernel"]["status"] == "RUNNING")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.process = None
        return code

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def intent(self, *args):
        result = self.run("intent", "--instance", self.instance, "--json", "--producer-id", "5",
                          "--wait", *args)
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout)

    def log(self):
        text = ""
        for i in range(1, self.starts + 1):
            path = os.path.join(self.work, "serve-%d.log" % i)
            if os.path.exists(path):
                text += pathlib.Path(path).read_text(errors="replace")
        return text

    def remove_regions(self):
        for kind in ("state", "control", "intent"):
            try:
                os.unlink("/dev/shm/dita.%s.%s" % (self.instance, kind))
            except FileNotFoundError:
                pass


@pytest.fixture
def setup():
    work = tempfile.mkdtemp(prefix="dita-chdb-serve-")
    server_dir = os.path.join(work, "chdb")
    env = dict(os.environ, DITA_SERVER_OWNER_PID=str(os.getpid()))
    dita = None
    try:
        started = subprocess.run([str(ROOT / "scripts" / "start-chdb"), server_dir],
                                 capture_output=True, text=True, env=env, timeout=60)
        assert started.returncode == 0, (
            "scripts/start-chdb failed (run scripts/setup-servers.sh):\n" +
            started.stdout + started.stderr)
        address = started.stdout.strip().splitlines()[-1]
        assert re.fullmatch(r"127\.0\.0\.1:\d+", address), address
        dita = Dita(work, address)
        yield dita, address
    finally:
        if dita is not None:
            dita.kill()
            dita.remove_regions()
        subprocess.run([str(ROOT / "scripts" / "stop-server"), server_dir],
                       capture_output=True, timeout=60)
        shutil.rmtree(work, ignore_errors=True)


def delivered(status):
    ch = status["sinks"]["clickhouse"]
    return (ch["state"] == "UP" and ch["spool_depth"] == 0 and ch["delivered_records"] > 0)


def counts(address, strategy):
    """Per table: (rows, rows with FINAL, distinct row ids, rows per GROUP BY row_id)."""
    where = " WHERE strategy = '%s'" % strategy
    out = {}
    for table in EXPECTED_ROWS:
        raw = int(query(address, "SELECT count() FROM dita.%s%s" % (table, where)))
        final = query(address, "SELECT count(), uniqExact(row_id) FROM dita.%s FINAL%s"
                      % (table, where)).split()
        grouped = int(query(address, "SELECT count() FROM (SELECT row_id FROM dita.%s%s "
                                     "GROUP BY row_id)" % (table, where)))
        out[table] = (raw, int(final[0]), int(final[1]), grouped)
    return out


def test_dita_serve_writes_to_current_clickhouse_and_retried_rows_count_once(setup):
    dita, address = setup
    version = query(address, "SELECT version()").strip()
    assert int(version.split(".")[0]) >= 24, version

    # 1. No schema yet: ClickHouse's own error reaches `dita status`, rows wait in the spool.
    dita.start()
    dita.intent("enter", "--slot", "0", "--asset", "BTC-USDT", "--side", "LONG", "--size",
                "0.02", "--price", "60000")
    dita.intent("exit", "--slot", "0", "--size", "0.01", "--price", "61000")
    dita.intent("exit", "--slot", "0", "--price", "62000")
    status = dita.wait_for(lambda s: s["account"]["trade_seq"] == 1 and
                           s["sinks"]["clickhouse"]["state"] == "DOWN" and
                           s["sinks"]["clickhouse"]["spool_depth"] > 0)
    error = status["sinks"]["clickhouse"]["last_error"]
    # The whole server message, through its error name and version (the state image keeps up
    # to 471 bytes; layout version 2 cut it at 87, inside the sentence).
    assert re.match(r"HTTP_STATUS 404 \(ClickHouse code 81\): Code: 81\. DB::Exception: "
                    r"Database dita", error), error
    assert "(UNKNOWN_DATABASE)" in error and f"(version {version}" in error, error

    # 2. Schema applied: the spool drains into current ClickHouse.
    schema = subprocess.run(["python3", str(ROOT / "deploy" / "clickhouse" / "apply_schema.py"),
                             address], capture_output=True, text=True, timeout=60)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    status = dita.wait_for(delivered)
    inputs = status["kernel"]["inputs_processed"]
    assert dita.stop() == 0, dita.log()

    first = counts(address, dita.strategy)
    for table, want in EXPECTED_ROWS.items():
        raw, final, ids, grouped = first[table]
        assert raw == final == ids == grouped, (table, first[table])  # nothing sent twice
        assert final == want if want is not None else final > 0, (table, first[table])
    assert first["kernel_inputs"][1] == inputs, (first["kernel_inputs"], inputs)

    # 3. The spool is lost: the restarted server re-spools the journal and the writer re-sends
    #    every row with the same row id.
    shutil.rmtree(os.path.join(dita.work, "spool"))
    dita.start()
    status = dita.wait_for(delivered)
    assert "spooled them from the journal" in dita.log(), dita.log()
    assert dita.stop() == 0, dita.log()

    second = counts(address, dita.strategy)
    for table, (raw, final, ids, grouped) in second.items():
        n = first[table][1]
        # Both copies stay until a merge collapses (some of) them; readers count each row id
        # once.
        assert n <= raw <= 2 * n and final == ids == grouped == n, (table, second[table], n)
    resent = sum(second[t][0] - first[t][0] for t in EXPECTED_ROWS)
    for table in EXPECTED_ROWS:
        query(address, "OPTIMIZE TABLE dita.%s FINAL" % table)
    third = counts(address, dita.strategy)
    for table in EXPECTED_ROWS:
        assert third[table] == (first[table][1],) * 4, (table, third[table])

    # Exact decimals, computed by ClickHouse: the legs' isolated realized PnL sums to the
    # trade's, and the exit leg quantities to the entry quantity.
    where = " WHERE strategy = '%s'" % dita.strategy
    legs = query(address, "SELECT toString(sum(leg_realized_pnl)), toString(sum(leg_qty)) "
                          "FROM dita.trade_exit_legs FINAL" + where).split()
    trade = query(address, "SELECT toString(realized_pnl), toString(qty_closed), leg_count "
                           "FROM dita.trade_exits FINAL" + where).split()
    entry = query(address, "SELECT toString(qty) FROM dita.trade_entries FINAL" + where).split()
    assert legs[0] == trade[0] and legs[1] == trade[1] == entry[0], (legs, trade, entry)
    assert float(entry[0]) == 0.02 and trade[2] == "2", (legs, trade, entry)
    # The exit legs, in order, with the prices the mock filled them at.
    prices = query(address, "SELECT leg_index, toString(leg_qty), toString(leg_price) FROM "
                            "dita.trade_exit_legs FINAL%s ORDER BY leg_index" % where)
    assert [(float(q), float(p)) for _, q, p in map(str.split, prices.splitlines())] == [
        (0.01, 61000.0), (0.01, 62000.0)], prices
    print("current ClickHouse %s: %s rows, %d re-sent (before OPTIMIZE)"
          % (version, {t: first[t][1] for t in EXPECTED_ROWS}, resent))
