#!/usr/bin/env python3
"""Applies deploy/clickhouse/NNN_*.sql to a ClickHouse server over HTTP, in order, skipping
versions already recorded in dita.schema_version. Safe to re-run: statements are idempotent.

  apply_schema.py HOST:PORT [--user USER] [--password PASSWORD] [--dir DIR]

Each file holds statements that end with ';' at the end of a line; '--' lines are comments.
Uses only the standard library (urllib), and sends each statement as one POST.
"""
import argparse
import pathlib
import re
import sys
import urllib.error
import urllib.request

FILE_PATTERN = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def post(address, sql, user, password):
    request = urllib.request.Request("http://" + address + "/", data=sql.encode("utf-8"),
                                     method="POST")
    request.add_header("X-ClickHouse-User", user)
    if password:
        request.add_header("X-ClickHouse-Key", password)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        raise RuntimeError("HTTP %d: %s\n-- statement:\n%s" %
                           (error.code, error.read().decode("utf-8", "replace").strip(), sql))


def statements(text):
    current = []
    for line in text.splitlines():
        if line.strip().startswith("--") or not line.strip():
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            yield "\n".join(current).rstrip().rstrip(";")
            current = []
    if current:
        raise ValueError("statement without a terminating ';': " + " ".join(current)[:80])


def current_version(address, user, password):
    exists = post(address, "EXISTS TABLE dita.schema_version", user, password).strip()
    if exists != "1":
        return 0
    return int(post(address, "SELECT max(version) FROM dita.schema_version", user,
                    password).strip() or 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address")
    parser.add_argument("--user", default="default")
    parser.add_argument("--password", default="")
    parser.add_argument("--dir", default=str(pathlib.Path(__file__).resolve().parent))
    args = parser.parse_args()
    files = sorted(p for p in pathlib.Path(args.dir).iterdir() if FILE_PATTERN.match(p.name))
    have = current_version(args.address, args.user, args.password)
    applied = 0
    for path in files:
        version = int(FILE_PATTERN.match(path.name).group(1))
        if version <= have:
            continue
        for sql in statements(path.read_text(encoding="utf-8")):
            post(args.address, sql, args.user, args.password)
        applied += 1
        print("applied %s" % path.name)
    print("schema version %d (%d file(s) applied)" %
          (current_version(args.address, args.user, args.password), applied))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, ValueError, OSError) as error:
        print("apply_schema: %s" % error, file=sys.stderr)
        sys.exit(1)
