"""The contract of scripts/start-chdb and tests/sink/chdb_http_server.py (the HTTP shim over
chdb that the ClickHouse tests use as "current ClickHouse"): the start/stop contract shared
with scripts/start-clickhouse, one statement per request, insert data never run as SQL,
keep-alive, ClickHouse-shaped errors, loud refusal of everything it does not implement, data
kept across a restart, and a hard failure (never a skip) when chdb is missing."""
import http.client
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import urllib.parse

import pytest

ROOT = pathlib.Path(os.environ.get("DITA_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
START = str(ROOT / "scripts" / "start-chdb")
STOP = str(ROOT / "scripts" / "stop-server")


def start(directory, *args, env=None):
    env = dict(env or os.environ, DITA_SERVER_OWNER_PID=str(os.getpid()))
    return subprocess.run([START, directory, *args], capture_output=True, text=True, env=env,
                          timeout=60)


@pytest.fixture(scope="module")
def work():
    path = tempfile.mkdtemp(prefix="dita-chdb-shim-")
    try:
        yield path
    finally:
        subprocess.run([STOP, path + "/srv"], capture_output=True, timeout=60)
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def server(work):
    started = start(work + "/srv")
    assert started.returncode == 0, started.stdout + started.stderr
    address = started.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"127\.0\.0\.1:\d+", address), started.stdout
    return address


def request(address, method="POST", path="/", body=None, headers=None, connection=None):
    """One request; returns (status, text, headers). Reuses `connection` when given."""
    conn = connection or http.client.HTTPConnection(*address.split(":"), timeout=30)
    try:
        conn.request(method, path, body=body.encode() if isinstance(body, str) else body,
                     headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode(), dict(response.getheaders())
    finally:
        if connection is None:
            conn.close()


def sql(address, statement, **kwargs):
    status, text, _ = request(address, body=statement, **kwargs)
    assert status == 200, (status, text)
    return text


def insert_path(statement):
    return "/?query=" + urllib.parse.quote(statement)


def test_start_contract_matches_start_clickhouse(work, server):
    directory = pathlib.Path(work, "srv")
    assert (directory / "address").read_text().strip() == server
    pid = int((directory / "pid").read_text())
    assert str(directory) in pathlib.Path("/proc/%d/cmdline" % pid).read_text().replace("\0", " ")
    for path in ("/ping", "/"):
        assert request(server, "GET", path)[:2] == (200, "Ok.\n")
    again = start(str(directory))  # a second start on a running DIR is refused
    assert again.returncode != 0 and "already running" in again.stderr, again.stderr
    version = sql(server, "SELECT version()").strip()
    assert int(version.split(".")[0]) >= 24, version


def test_statements_and_inserts_like_the_server(server):
    sql(server, "CREATE DATABASE IF NOT EXISTS shim")
    sql(server, "CREATE TABLE shim.t (k String, v Decimal(38, 12)) ENGINE = ReplacingMergeTree() "
                "ORDER BY k")
    # DITA's writer: statement in the URL, JSONEachRow data in the body, on one kept-alive
    # connection (libcurl reuses it).
    conn = http.client.HTTPConnection(*server.split(":"), timeout=30)
    try:
        for _ in range(2):
            status, text, _ = request(server, path=insert_path(
                "INSERT INTO shim.t (k,v) FORMAT JSONEachRow"),
                body='{"k":"a","v":1.25}\n{"k":"b;DROP TABLE shim.t","v":2}\n',
                headers={"X-ClickHouse-User": "default"}, connection=conn)
            assert (status, text) == (200, ""), text
        # Another client is served while that connection stays open.
        assert sql(server, "SELECT count() FROM shim.t FINAL") == "2\n"
        assert request(server, path="/", body="SELECT 1", connection=conn)[:2] == (200, "1\n")
    finally:
        conn.close()
    # Inline VALUES in the body (apply_schema.py's version rows): the data is read by the
    # Values format only, so what follows it is never run as a statement.
    sql(server, "INSERT INTO shim.t (k, v) VALUES ('c', 3); DROP TABLE shim.t")
    assert sql(server, "SELECT k, toFloat64(v) FROM shim.t FINAL ORDER BY k FORMAT CSV") == (
        '"a",1.25\n"b;DROP TABLE shim.t",2\n"c",3\n')
    assert sql(server, "SELECT currentDatabase()", path="/?database=shim") == "shim\n"
    assert sql(server, "SELECT currentDatabase()") == "default\n"


def test_skip_unknown_fields_setting_applies_to_its_request_only(server):
    """DITA's writer sends input_format_skip_unknown_fields=0 so a key that names no column
    fails on current ClickHouse too (its default silently drops the key)."""
    sql(server, "CREATE DATABASE IF NOT EXISTS shim")
    sql(server, "CREATE TABLE IF NOT EXISTS shim.u (k String) ENGINE = MergeTree() ORDER BY k")
    statement = urllib.parse.quote("INSERT INTO shim.u (k) FORMAT JSONEachRow")
    status, text, _ = request(server, path="/?query=%s&input_format_skip_unknown_fields=0"
                              % statement, body='{"k":"strict","extra":1}\n')
    assert status != 200 and "Code: " in text and "extra" in text, (status, text)
    # The next request without the setting has the server's default again (skip).
    status, text, _ = request(server, path="/?query=" + statement,
                              body='{"k":"lenient","extra":1}\n')
    assert status == 200, text
    assert sql(server, "SELECT k FROM shim.u ORDER BY k") == "lenient\n"
    # Other values or settings are still refused.
    status, _, _ = request(server, path="/?query=%s&input_format_skip_unknown_fields=2"
                           % statement, body='{"k":"x"}\n')
    assert status == 501


@pytest.mark.parametrize("statement, status, code, text", [
    ("SELECT 1; SELECT 2", 400, 62, "Multi-statements are not allowed"),
    ("CREATE TABLE shim.x (a UInt8) ENGINE = Memory; DROP TABLE shim.t", 400, 62,
     "Multi-statements are not allowed"),
    ("", 400, 62, "Empty query"),
    ("SELEC 1", 400, 62, "Syntax error"),
    ("1 + 1", 400, 62, "Syntax error"),  # clickhouse-local's implicit SELECT is off, as on servers
    ("SELECT * FROM shim.missing", 404, 60, "shim.missing"),
    ("SELECT * FROM missing.t", 404, 81, "Database missing does not exist"),
])
def test_errors_are_clickhouse_errors(server, statement, status, code, text):
    got_status, got_text, headers = request(server, body=statement)
    assert got_status == status, got_text
    pattern = r"Code: %d\. DB::Exception: .*%s.* \(version [\d.]+\)\n$" % (code, re.escape(text))
    assert re.match(pattern, got_text, re.S), got_text
    assert headers.get("X-ClickHouse-Exception-Code") == str(code)
    assert sql(server, "EXISTS TABLE shim.t") == "1\n"


@pytest.mark.parametrize("method, path, body, headers, status", [
    ("POST", "/?max_threads=1", "SELECT 1", {}, 501),               # settings as URL parameters
    ("POST", "/?query=SELECT+1&query=SELECT+2", "", {}, 501),
    ("GET", "/?query=SELECT+1", None, {}, 501),                      # GET queries
    ("POST", "/", "SELECT 1", {"Content-Encoding": "gzip"}, 501),
    ("POST", "/", "SELECT 1", {"Authorization": "Basic ZGVmYXVsdDo="}, 501),
    ("POST", "/", "SELECT 1", {"X-ClickHouse-Format": "JSON"}, 501),
    ("POST", "/", "SELECT 1", {"Content-Type": "multipart/form-data; boundary=x"}, 501),
    ("POST", "/?query=SELECT", "1", {}, 501),                         # body after a non-INSERT
    ("POST", insert_path("INSERT INTO shim.t (k) SETTINGS async_insert=0 FORMAT JSONEachRow"),
     '{"k":"z"}\n', {}, 501),
    ("POST", "/", "INSERT INTO shim.t (k) FROM INFILE '/etc/hostname' FORMAT CSV", {}, 501),
    ("POST", "/", "SELECT 1 INTO OUTFILE '/tmp/dita-chdb-shim-outfile'", {}, 501),
    ("POST", "/", "SET max_threads = 1", {}, 501),                  # would outlive the request
    ("POST", "/", "USE shim", {}, 501),
    ("POST", "/", "CREATE TEMPORARY TABLE tmp (a UInt8)", {}, 501),
    ("POST", "/other", "SELECT 1", {}, 404),
    ("POST", "/", "SELECT 1", {"X-ClickHouse-User": "nobody"}, 403),
    ("POST", "/", "SELECT 1", {"X-ClickHouse-Key": "wrong"}, 403),
])
def test_refuses_what_it_does_not_implement(server, method, path, body, headers, status):
    got_status, text, _ = request(server, method, path, body, headers)
    assert got_status == status, text
    if status == 501:
        assert re.match(r"Code: 48\. DB::Exception: chdb_http_server .* does not support .*"
                        r"\(NOT_IMPLEMENTED\)", text, re.S), text
    assert sql(server, "SELECT count() FROM shim.t WHERE k = 'z'") == "0\n"
    assert not os.path.exists("/tmp/dita-chdb-shim-outfile")
    assert sql(server, "SELECT currentDatabase(), getSetting('max_threads') != 1") == "default\t1\n"


def test_chunked_bodies_are_read(server):
    conn = http.client.HTTPConnection(*server.split(":"), timeout=30)
    try:
        conn.request("POST", insert_path("INSERT INTO shim.t (k, v) FORMAT JSONEachRow"),
                     body=iter([b'{"k":"chunked","v":', b'7}\n']), encode_chunked=True)
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"")
        conn.request("POST", "/", body=iter([b"SELECT toFloat64(v) FROM shim.t FINAL ",
                                             b"WHERE k = 'chunked'"]), encode_chunked=True)
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b"7\n")
    finally:
        conn.close()


def test_restart_keeps_data_on_the_same_port(work, server):
    directory = work + "/srv"
    sql(server, "CREATE TABLE IF NOT EXISTS shim.kept (k String) ENGINE = MergeTree ORDER BY k")
    sql(server, "INSERT INTO shim.kept VALUES ('still here')")
    stopped = subprocess.run([STOP, directory], capture_output=True, text=True, timeout=60)
    assert stopped.returncode == 0, stopped.stderr
    assert not os.path.exists(directory + "/pid")
    assert "chdb_http_server: stopped" in pathlib.Path(directory, "log", "stderr.log").read_text()
    restarted = start(directory, server.split(":")[1])
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert restarted.stdout.strip().splitlines()[-1] == server
    assert sql(server, "SELECT k FROM shim.kept") == "still here\n"


def test_missing_chdb_fails_instead_of_skipping(work):
    fake = pathlib.Path(work, "no-chdb")
    (fake / "chdb").mkdir(parents=True)
    (fake / "chdb" / "__init__.py").write_text("raise ImportError('chdb hidden by the test')\n")
    env = dict(os.environ, PYTHONPATH=str(fake))
    started = start(work + "/unused", env=env)
    assert started.returncode != 0, started.stdout
    assert "cannot import chdb" in started.stderr and "setup-servers.sh" in started.stderr
    shim = subprocess.run(["python3", str(ROOT / "tests" / "sink" / "chdb_http_server.py"),
                           work + "/unused/data"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert shim.returncode != 0 and "cannot import chdb" in shim.stderr, shim.stderr
