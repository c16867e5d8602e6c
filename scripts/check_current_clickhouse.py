"""Runs the schema and the queries of the test suite on a current ClickHouse as well.

Production runs a current ClickHouse; the tests run Debian's 18.16. This script takes the
queries the test suite sent to the 18.16 test server (its system.query_log, which
scripts/clickhouse.sh switches on), applies every migration in ingest/migrations/ on the
ClickHouse engine that PyPI's chdb embeds, and runs one query of each shape there (on the
empty tables the migrations made: what it checks is that the engine accepts the SQL, its
functions and types, not the numbers). Any statement refused is printed with the engine's
message, and the exit status is 1.

Usage: check_current_clickhouse.py CLICKHOUSE_HTTP_URL REPO_ROOT
"""

import json
import pathlib
import re
import sys
import tempfile
import urllib.parse
import urllib.request

import chdb
from chdb import session as chs

DATABASE = "feedlot"
# Queries on these are about the server or another server, not the product's data.
SKIPPED = re.compile(r"\bsystem\.|\bremote\(|\bremoteSecure\(|\bcluster\(", re.IGNORECASE)
# The clickhouse crate names the wire format; chdb picks its own output format.
TRAILING_FORMAT = re.compile(r"\s+FORMAT\s+\w+\s*;?\s*$", re.IGNORECASE)
STRING_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'")
NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
# Lists of literals of any length are one shape.
LIST = re.compile(r"\((?:\s*\?\s*,)+\s*\?\s*\)")
# Each test has its own database (testkit::ClickHouseDb: a name then 10 hex digits; the bench
# harness's have 12); here every statement runs in one.
TEST_DATABASE = re.compile(r"`?\b[a-z][a-z0-9_]*_[0-9a-f]{8,16}`?\.")


def http(url: str, sql: str) -> str:
    """Runs `sql` on the 18.16 server over HTTP and returns its body."""
    request = urllib.request.Request(url, data=sql.encode(), method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read().decode()


def statements(sql: str):
    """The statements of a migration file, as ingest's migrate.rs splits them."""
    for part in sql.split(";\n"):
        lines = [l for l in part.splitlines() if not l.strip().startswith("--")]
        text = "\n".join(lines).strip().rstrip(";").strip()
        if text:
            yield text


def shape(query: str) -> str:
    """The query with its literals taken out, to run one query of each shape."""
    text = STRING_LITERAL.sub("?", query)
    text = NUMBER.sub("?", text)
    text = LIST.sub("(?)", text)
    return " ".join(text.split())


def logged(url: str, starts: tuple):
    """The distinct statements the 18.16 server finished that start with one of `starts`
    (lower case), oldest first, each test's database name taken out."""
    condition = " OR ".join(
        f"lower(substring(query, 1, {len(s)})) = '{s}'" for s in starts
    )
    body = http(
        url,
        f"SELECT query FROM system.query_log WHERE type = 2 AND ({condition}) "
        "ORDER BY event_time FORMAT JSONEachRow",
    )
    seen, queries = set(), []
    for line in body.splitlines():
        query = TEST_DATABASE.sub("", json.loads(line)["query"].strip())
        if SKIPPED.search(query) or " ON CLUSTER " in query.upper():
            continue
        key = shape(query)
        if key not in seen:
            seen.add(key)
            queries.append(query)
    return queries


def main() -> int:
    url, root = sys.argv[1], pathlib.Path(sys.argv[2])
    print(f"current ClickHouse: chdb {chdb.__version__}, engine {chdb.query('SELECT version()', 'CSV').data().strip()}")
    failures = []
    with tempfile.TemporaryDirectory() as path:
        session = chs.Session(path)
        session.query(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
        http(url, "SYSTEM FLUSH LOGS")
        migrations = sorted((root / "ingest" / "migrations").glob("*.sql"))
        applied = 0
        for migration in migrations:
            for statement in statements(migration.read_text()):
                try:
                    session.query(f"USE {DATABASE}; {statement}")
                    applied += 1
                except Exception as error:  # chdb raises its engine's message as a plain error
                    failures.append((f"migration {migration.name}", statement, str(error)))
        print(f"migrations: {len(migrations)} files, {applied} statements applied")
        # Tables the services make themselves (the dashboards' sign-in store) and the tests'
        # own, as the tests created them.
        created = logged(url, ("create table",))
        for statement in created:
            try:
                session.query(f"USE {DATABASE}; {statement}")
            except Exception as error:
                failures.append(("CREATE TABLE sent by the tests", statement, str(error)))
        print(f"tables: {len(created)} CREATE TABLE shapes sent by the tests")

        tables = set(session.query(f"SELECT name FROM system.tables WHERE database = '{DATABASE}'", "CSV").data().replace('"', "").split())
        queries = logged(url, ("select", "with"))
        ran = skipped = 0
        for query in queries:
            named = set(re.findall(r"\b(?:FROM|JOIN)\s+`?(\w+)`?", query, re.IGNORECASE))
            unknown = {t for t in named if t not in tables and t.lower() not in {"numbers", "system"}}
            if unknown and not re.search(r"\bFROM\s*\(", query, re.IGNORECASE) and named <= unknown:
                skipped += 1  # a test's own scratch table, not the product's schema
                continue
            try:
                session.query(f"USE {DATABASE}; {TRAILING_FORMAT.sub('', query)}", "Null")
                ran += 1
            except Exception as error:
                failures.append(("query", query, str(error)))
        print(f"queries: {len(queries)} shapes logged by the tests, {ran} run, {skipped} on tables outside the schema")
        session.close()
    if not queries:
        print("no queries in system.query_log: was the server started by scripts/clickhouse.sh?")
        return 1
    for where, statement, error in failures:
        print(f"\nREFUSED ({where}):\n{statement[:2000]}\n-> {error.strip()[:1000]}")
    print(f"\n{len(failures)} refused")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
