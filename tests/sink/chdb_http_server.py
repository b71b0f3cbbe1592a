#!/usr/bin/env python3
"""A ClickHouse-HTTP-interface shim over chdb, to test DITA against current ClickHouse.

  chdb_http_server.py DATA_DIR [--port PORT] [--address-file FILE] [--user U] [--password P]

chdb (PyPI) is the ClickHouse engine as an in-process library: the SQL engine, the table
engines (MergeTree, ReplacingMergeTree and their merges), the input/output formats (our
JSONEachRow inserts) and the error texts are real ClickHouse (chdb 4.4.0: 26.9). The HTTP layer
is this file: it answers the subset of ClickHouse's HTTP interface that DITA uses and fails
loudly (HTTP 501, `Code: 48 ... (NOT_IMPLEMENTED)`) on everything else:

  GET  /ping, GET /                 -> 200 "Ok.\\n"
  POST /  body = one SQL statement  -> its result, TabSeparated unless the statement says FORMAT
  POST /?query=INSERT INTO db.t (c, ...) FORMAT F   body = the data (DITA's writer: JSONEachRow)
       URL parameters: `query`, `database`; headers X-ClickHouse-User / X-ClickHouse-Key.

Like clickhouse-server's HTTP handler: one statement per request (chdb itself would run a
multi-statement text, so the statement is parsed first by ClickHouse's own parser via
formatQuery() and the request is refused unless that is exactly one statement), insert data is
parsed by the input format only (sent through chdb's streaming insert, so it can never be run
as SQL), and errors are `Code: N. DB::Exception: ... (NAME) (version V)` with ClickHouse's own
HTTP status for that error (exceptionCodeToHTTPStatus: 400 bad data/syntax, 404 unknown
table/database, 403 authentication, 500 otherwise) and the X-ClickHouse-Exception-Code header.
Request bodies may be sent with Content-Length or chunked. The one setting DITA's writer sends,
`input_format_skip_unknown_fields` (0 or 1), applies to its request. Not supported (refused):
other settings or URL parameters (`user`/`password` included), GET queries, compression
(Content-Encoding), multipart bodies (external tables), Basic auth, other X-ClickHouse-*
headers, paths other than / and /ping, INSERT with SETTINGS, FROM INFILE, INTO OUTFILE, and
statements that would change the session for later requests (SET, USE, CREATE TEMPORARY TABLE,
transactions: the server drops them with the request).

Listens on 127.0.0.1 only (PORT, default: a free port picked by the kernel). Once it accepts
connections it writes FILE (if given) and prints `127.0.0.1:PORT` on the last line of stdout.
SIGTERM or SIGINT: stops accepting, finishes the statement in progress, closes the chdb
session (its data stays in DATA_DIR for the next start) and exits 0.
"""
import argparse
import os
import re
import signal
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import chdb
    from chdb import session as chdb_session
except ImportError as error:  # a hard failure: tests must not silently skip current ClickHouse
    sys.exit("chdb_http_server: cannot import chdb (%s); run scripts/setup-servers.sh" % error)

HOST = "127.0.0.1"
MAX_BODY = 256 * 1024 * 1024

# ClickHouse's src/Server/HTTP/exceptionCodeToHTTPStatus.cpp, by error name (chdb's messages
# end with "(NAME)"); everything else is 500.
HTTP_STATUS_BY_ERROR = {
    401: {"REQUIRED_PASSWORD"},
    403: {"UNKNOWN_USER", "WRONG_PASSWORD", "AUTHENTICATION_FAILED", "SET_NON_GRANTED_ROLE",
          "ACCESS_DENIED"},
    400: {"BAD_ARGUMENTS", "CANNOT_COMPILE_REGEXP", "CANNOT_PARSE_TEXT",
          "CANNOT_PARSE_ESCAPE_SEQUENCE", "CANNOT_PARSE_QUOTED_STRING", "CANNOT_PARSE_DATE",
          "CANNOT_PARSE_DATETIME", "CANNOT_PARSE_NUMBER", "CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING",
          "CANNOT_PARSE_IPV4", "CANNOT_PARSE_IPV6", "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
          "CANNOT_PARSE_UUID", "DUPLICATE_COLUMN", "ILLEGAL_COLUMN", "UNKNOWN_ELEMENT_IN_AST",
          "UNKNOWN_TYPE_OF_AST_NODE", "THERE_IS_NO_COLUMN", "TOO_DEEP_AST", "TOO_BIG_AST",
          "UNEXPECTED_AST_STRUCTURE", "SYNTAX_ERROR", "INCORRECT_DATA", "TYPE_MISMATCH",
          "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE"},
    404: {"UNKNOWN_TABLE", "UNKNOWN_FUNCTION", "UNKNOWN_IDENTIFIER", "UNKNOWN_TYPE",
          "UNKNOWN_STORAGE", "UNKNOWN_DATABASE", "UNKNOWN_SETTING",
          "UNKNOWN_DIRECTION_OF_SORTING", "UNKNOWN_AGGREGATE_FUNCTION", "UNKNOWN_FORMAT",
          "UNKNOWN_DATABASE_ENGINE", "UNKNOWN_TYPE_OF_QUERY", "UNKNOWN_ROLE"},
    413: {"QUERY_IS_TOO_LARGE"},
    501: {"NOT_IMPLEMENTED"},
    503: {"SOCKET_TIMEOUT", "CANNOT_OPEN_FILE", "CANNOT_SCHEDULE_TASK"},
    411: {"HTTP_LENGTH_REQUIRED"},
    408: {"TIMEOUT_EXCEEDED"},
    415: {"UNSUPPORTED_MEDIA_TYPE"},
}

# An INSERT whose data follows the statement, as ClickHouse's formatQuery() prints it:
# INSERT INTO [db.]table [(columns)] FORMAT Name (VALUES is printed as FORMAT Values).
IDENT = r"(?:[A-Za-z_][A-Za-z0-9_]*|`(?:[^`\\]|\\.)*`)"
DATA_INSERT = re.compile(r"(INSERT INTO %s(?:\.%s)?(?:\s*\((?:[^()`]|`(?:[^`\\]|\\.)*`)*\))?)"
                         r"\s+FORMAT\s+(\w+)" % (IDENT, IDENT))
ERROR_TEXT = re.compile(r"Code: (\d+)\. DB::Exception: (.*)", re.S)


class ShimError(Exception):
    """An error answered in ClickHouse's shape: Code, text, NAME and the HTTP status."""

    def __init__(self, code, name, text, status=None):
        super().__init__(text)
        self.code, self.name, self.text = code, name, text
        self.status = status or next((s for s, names in HTTP_STATUS_BY_ERROR.items()
                                      if name in names), 500)


def not_implemented(what):
    return ShimError(48, "NOT_IMPLEMENTED",
                     "chdb_http_server (DITA's test shim over chdb) does not support %s" % what)


def from_chdb(error):
    """chdb raises RuntimeError/ChdbError with ClickHouse's own `Code: N. DB::Exception: ...
    (NAME)` text (streaming inserts prefix it and append the version); normalise it."""
    text = str(error)
    match = ERROR_TEXT.search(text)
    if not match:
        return ShimError(1001, "STD_EXCEPTION", "chdb_http_server: chdb failed: " + text)
    message = re.sub(r"\s*\(version [^)]*\)\s*$", "", match.group(2).rstrip())
    name = re.search(r"\((\w+)\)$", message)
    if name:
        message = message[:name.start()].rstrip()
    return ShimError(int(match.group(1)), name.group(1) if name else "", message)


def sql_string(text):
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def sql_identifier(text):
    return "`" + text.replace("\\", "\\\\").replace("`", "\\`") + "`"


class Engine:
    """The chdb session and everything that touches it (one statement at a time)."""

    def __init__(self, data_dir):
        self.lock = threading.Lock()
        self.session = chdb_session.Session(data_dir)
        self.closed = False
        # clickhouse-local (chdb) accepts a bare expression as a SELECT; the server does not.
        self.session.query("SET implicit_select = 0")
        self.version = self._raw("SELECT version()").decode().strip()

    def close(self):
        with self.lock:
            if not self.closed:
                self.closed = True
                self.session.close()

    def _raw(self, sql, fmt="TabSeparated"):
        try:
            return self.session.query(sql, fmt).bytes()
        except Exception as error:  # chdb raises RuntimeError subclasses with ClickHouse's text
            raise from_chdb(error) from None

    def _format(self, text):
        """ClickHouse's parser on one statement: its normalised text, or the parser's error
        (multi-statements are refused exactly as the server refuses them)."""
        try:
            return self._raw("SELECT formatQuery(%s)" % sql_string(text), "RawBLOB").decode()
        except ShimError as error:
            error.text = re.sub(r":? *In scope SELECT formatQuery\(.*\)\.?$", "", error.text,
                                flags=re.S).rstrip()
            raise

    def _insert(self, head, fmt, data):
        try:
            with self.session.send_insert(head, fmt) as inserter:
                if data:
                    inserter.append(data)
                inserter.finish()
        except ShimError:
            raise
        except Exception as error:
            raise from_chdb(error) from None
        return b""

    def _inline_data(self, text, formatted):
        """Where an INSERT's own data starts in text (after VALUES / FORMAT Name): the shortest
        prefix that ClickHouse's parser reads as the same statement."""
        for keyword in re.finditer(r"\bVALUES\b|\bFORMAT\s+\w+", text, re.I):
            try:
                same = self._format(text[:keyword.end()]) == formatted
            except ShimError:
                same = False
            if same:
                data = text[keyword.end():]
                # Like the server: the data starts after the first newline, or after the
                # whitespace that follows the statement.
                newline = re.match(r"[ \t]*\r?\n", data)
                return data[newline.end():] if newline else data.lstrip(" \t")
        raise not_implemented("this INSERT form (cannot locate its data): " + formatted)

    def execute(self, query_param, body, database, skip_unknown_fields=None):
        text = query_param if query_param else body
        if not text.strip():
            raise ShimError(62, "SYNTAX_ERROR", "Empty query")
        with self.lock:
            if self.closed:
                raise ShimError(210, "NETWORK_ERROR", "chdb_http_server is shutting down",
                                status=503)
            if database:
                self._raw("USE " + sql_identifier(database))
            if skip_unknown_fields is not None:
                self._raw("SET input_format_skip_unknown_fields = " + skip_unknown_fields)
            try:
                if query_param and body and not re.match(r"\s*INSERT\b", query_param, re.I):
                    # The server would parse `query` + "\n" + body as one statement.
                    raise not_implemented("a request body after a non-INSERT `query` parameter")
                formatted = self._format(text)
                for forbidden in ("FROM INFILE", "INTO OUTFILE"):
                    if forbidden in formatted:
                        raise not_implemented(forbidden)
                # The server forgets these with the request (no session_id); the one chdb
                # session would keep them for every later request.
                stateful = re.match(r"(SET|USE|CREATE TEMPORARY|BEGIN|START TRANSACTION)\b",
                                    formatted)
                if stateful:
                    raise not_implemented("session state (%s); use the `database` parameter"
                                          % stateful.group(1))
                insert = DATA_INSERT.fullmatch(formatted)
                if insert:
                    head, fmt = insert.group(1), insert.group(2)
                    if query_param and body:
                        if self._inline_data(text, formatted).strip():
                            raise not_implemented("INSERT data both in the URL and in the body")
                        return self._insert(head, fmt, body)
                    return self._insert(head, fmt, self._inline_data(text, formatted))
                if formatted.startswith("INSERT") and re.search(r"\bFORMAT\s+\w+$", formatted):
                    raise not_implemented("this INSERT form: " + formatted)
                if query_param and body:
                    raise not_implemented("a request body after an INSERT without data format")
                return self._raw(text)
            finally:
                if database:
                    self._raw("USE default")
                if skip_unknown_fields is not None:
                    self._raw("SET input_format_skip_unknown_fields = DEFAULT")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as DITA's libcurl writer reuses its connection
    server_version = "chdb_http_server"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    def _reply(self, status, payload, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-ClickHouse-Server-Display-Name",
                         "chdb_http_server (ClickHouse %s via chdb %s)"
                         % (self.server.engine.version, chdb.__version__))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _fail(self, error):
        message = error.text if error.text.endswith(".") else error.text + "."
        text = "Code: %d. DB::Exception: %s%s (version %s)\n" % (
            error.code, message, " (%s)" % error.name if error.name else "",
            self.server.engine.version)
        self._reply(error.status, text.encode(), [("X-ClickHouse-Exception-Code",
                                                   str(error.code))])

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path in ("/", "/ping") and not url.query:
            self._reply(200, b"Ok.\n")
        elif url.path == "/":
            self._fail(not_implemented("GET queries (use POST)"))
        else:
            self._fail(ShimError(0, "", "There is no handle %s" % url.path, status=404))

    def _read_chunked(self):
        body = bytearray()
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise ShimError(0, "", "bad chunked request body", status=400) from None
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailer fields
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY:
                self.close_connection = True
                raise ShimError(0, "", "request body too large", status=413)
            body += self.rfile.read(size)
            self.rfile.readline(1024)  # the CRLF after the chunk

    def _read_body(self):
        encoding = self.headers.get("Transfer-Encoding", "").strip().lower()
        if encoding == "chunked":
            return self._read_chunked()
        if encoding:
            self.close_connection = True
            raise not_implemented("Transfer-Encoding " + encoding)
        length = self.headers.get("Content-Length")
        try:
            length = int(length) if length is not None else 0
        except ValueError:
            self.close_connection = True
            raise ShimError(0, "", "bad Content-Length", status=400) from None
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            raise ShimError(0, "", "request body of %d bytes refused" % length, status=413)
        return self.rfile.read(length) if length else b""

    def _check_request(self):
        for name in self.headers.keys():
            lower = name.lower()
            if lower.startswith("x-clickhouse-") and lower not in ("x-clickhouse-user",
                                                                   "x-clickhouse-key"):
                raise not_implemented("the %s header" % name)
        if self.headers.get("Authorization"):
            raise not_implemented("the Authorization header (use X-ClickHouse-User/Key)")
        encoding = self.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise not_implemented("Content-Encoding " + encoding)
        if self.headers.get("Content-Type", "").lower().startswith("multipart/"):
            raise not_implemented("multipart bodies (external tables)")
        user = self.headers.get("X-ClickHouse-User", "default")
        key = self.headers.get("X-ClickHouse-Key", "")
        if user != self.server.user or key != self.server.password:
            raise ShimError(516, "AUTHENTICATION_FAILED",
                            "%s: Authentication failed: password is incorrect, or there is no "
                            "user with such name" % user)

    def do_POST(self):
        try:
            body = self._read_body()
            url = urllib.parse.urlsplit(self.path)
            if url.path != "/":
                raise ShimError(0, "", "There is no handle %s" % url.path, status=404)
            params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            for name, values in params.items():
                if name == "input_format_skip_unknown_fields" and values in (["0"], ["1"]):
                    continue  # the one setting DITA's writer sends; applied per request
                if name not in ("query", "database"):
                    raise not_implemented("the URL parameter %r (settings and other parameters "
                                          "are not passed on)" % name)
                if len(values) != 1:
                    raise not_implemented("a repeated URL parameter %r" % name)
            self._check_request()
            try:
                body_text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise not_implemented("a request body that is not UTF-8") from None
            skip = params.get("input_format_skip_unknown_fields", [None])[0]
            result = self.server.engine.execute(params.get("query", [""])[0], body_text,
                                                params.get("database", [""])[0],
                                                skip_unknown_fields=skip)
            self._reply(200, result)
        except ShimError as error:
            self._fail(error)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--address-file")
    parser.add_argument("--user", default="default")
    parser.add_argument("--password", default="")
    args = parser.parse_args()
    os.makedirs(args.data_dir, exist_ok=True)
    engine = Engine(os.path.abspath(args.data_dir))
    try:
        server = Server((HOST, args.port), Handler)
    except OSError as error:
        engine.close()
        sys.exit("chdb_http_server: cannot listen on %s:%d: %s" % (HOST, args.port, error))
    server.engine, server.user, server.password = engine, args.user, args.password

    def stop(signum, _frame):
        sys.stderr.write("chdb_http_server: signal %d, stopping\n" % signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    address = "%s:%d" % server.server_address[:2]
    if args.address_file:
        tmp = args.address_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(address + "\n")
        os.replace(tmp, args.address_file)
    print("chdb_http_server: ClickHouse %s (chdb %s), data %s, pid %d"
          % (engine.version, chdb.__version__, os.path.abspath(args.data_dir), os.getpid()))
    print(address, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        engine.close()
    sys.stderr.write("chdb_http_server: stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
