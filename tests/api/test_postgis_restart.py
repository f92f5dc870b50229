"""A write while PostGIS restarts: a clean 503, then recovery without restarting the app.

The shared test cluster is never stopped: each run starts a private,
throwaway PostgreSQL server (``initdb`` into a temporary directory, its own
port and socket directory, run as the ``postgres`` user because initdb
refuses root), loads the sample county's areas into it, and stops and starts
that server under one app and one engine. The finalizer always stops the
server and removes its directory, whatever the test did.
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.pool import NullPool

from geogrid.api.app import create_app
from geogrid.config import Settings
from geogrid.domain.codes import AreaLevel
from geogrid.services import accounts
from geogrid.services.boundaries import import_boundaries
from geogrid.services.demo import SAMPLE_DIR
from geogrid.services.imports import ImportOptions
from geogrid.store.engine import init_db, make_engine
from tests.conftest import skip_or_fail
from tests.services.test_lookup import LAT, LON

pytestmark = [pytest.mark.backends("postgis"), pytest.mark.postgis, pytest.mark.slow]

ADMIN_PASSWORD = "restart-secret-9"
REQUEST_TIMEOUT_S = 30.0  # a request that takes longer counts as a hang
PG_CTL_TIMEOUT_S = 60


class PrivateServer:
    """A throwaway PostgreSQL server in ``root``: data in root/data, socket in root."""

    def __init__(self, bindir: Path, root: Path, *, as_postgres: list[str]) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.as_postgres = as_postgres
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` as the superuser geogrid (trust auth)."""
        return f"postgresql+psycopg://geogrid@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [*self.as_postgres, str(self.bindir / args[0]), *args[1:]]
        done = subprocess.run(
            command,
            cwd=self.root,  # the postgres user may not enter the caller's directory
            capture_output=True,
            text=True,
            timeout=PG_CTL_TIMEOUT_S + 10,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({done.returncode}):\n"
                f"{done.stdout}{done.stderr}\n{self.log()}"
            )

    def init(self) -> None:
        """initdb with the superuser geogrid, trusted on loopback only."""
        self._run(
            "initdb", "-D", str(self.data), "-U", "geogrid", "-A", "trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options,
            "-l", str(self.root / "server.log"), "-w", "-t", str(PG_CTL_TIMEOUT_S),
            "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop it; ``fast`` ends open sessions and rolls their transactions back."""
        self._run(
            "pg_ctl", "-D", str(self.data), "-m", mode, "-w",
            "-t", str(PG_CTL_TIMEOUT_S), "stop",
        )  # fmt: skip

    @property
    def is_running(self) -> bool:
        """Whether its postmaster is up (pg_ctl removes the pid file on stop)."""
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        """Stop it whatever its state, by its own pid if pg_ctl fails, and delete it."""
        pid_file = self.data / "postmaster.pid"
        if self.is_running:
            try:
                self.stop("immediate")
            except (RuntimeError, subprocess.SubprocessError, OSError):
                pid = int(pid_file.read_text().split()[0])
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        """The end of the server's log, for failure messages."""
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


def _bindir() -> Path | None:
    # The newest Debian PostgreSQL, the one scripts/start_postgis.sh starts.
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_postgres() -> list[str] | None:
    """The command prefix to run as the postgres user: initdb refuses root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return ["runuser", "-u", "postgres", "--"]


@pytest.fixture(scope="module")
def private_server(pytestconfig: pytest.Config) -> Iterator[PrivateServer]:
    bindir, prefix = _bindir(), _as_postgres()
    if bindir is None or prefix is None:
        skip_or_fail(
            pytestconfig,
            "PostgreSQL server binaries (initdb, pg_ctl) or the postgres user are "
            "missing: bash scripts/install.sh --test installs them",
        )
    assert bindir is not None
    assert prefix is not None
    root = Path(tempfile.mkdtemp(prefix="geogrid-pg-"))
    server = PrivateServer(bindir, root, as_postgres=prefix)
    try:
        if prefix:
            entry = pwd.getpwnam("postgres")
            os.chown(root, entry.pw_uid, entry.pw_gid)
        server.init()
        server.start()
        admin = create_engine(
            server.url("postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE geogrid"))
            has_postgis = conn.execute(
                text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
            ).first()
        admin.dispose()
        if has_postgis is None:
            skip_or_fail(
                pytestconfig,
                f"PostGIS is not installed for {bindir}: "
                "bash scripts/install.sh --test installs it",
            )
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="module")
def engine(private_server: PrivateServer) -> Iterator[Engine]:
    """The app's engine on the private server, with the sample county's areas."""
    engine = make_engine(private_server.url("geogrid"))
    try:
        init_db(engine)  # CREATE EXTENSION postgis, then the migrations
        # The areas are enough to look points up; buildings and addresses
        # would only make the set-up slower.
        for level in AreaLevel:
            import_boundaries(
                engine,
                SAMPLE_DIR / f"{level.value}.geojson",
                level=level,
                options=ImportOptions(
                    parent_field="parent_code" if level.parent else None
                ),
                tolerance_m=5.0,
            )
        accounts.add_user(engine, "admin", ADMIN_PASSWORD, "admin")
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    """The app on the private server, logged in as an admin who may add people."""
    settings = Settings(_env_file=None, database_url="sqlite:///unused.sqlite")  # type: ignore[call-arg]
    with TestClient(create_app(settings, bind=engine)) as test_client:
        login = test_client.post(
            "/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD}
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        test_client.headers["Authorization"] = f"Bearer {token}"
        yield test_client


def _write(client: TestClient, code: str) -> Response:
    """One write over HTTP: add person ``code`` (POST /people, ETag-versioned)."""
    person = {"code": code, "name": f"测试{code}", "phone": "13800000000"}
    return _bounded(lambda: client.post("/people", json=person))


def _read(client: TestClient) -> Response:
    return _bounded(lambda: client.get("/lookup", params={"lon": LON, "lat": LAT}))


def _bounded(call: Callable[[], Response]) -> Response:
    """Run a request, failing (not hanging) if it takes over REQUEST_TIMEOUT_S."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(call).result(timeout=REQUEST_TIMEOUT_S)
    finally:
        pool.shutdown(wait=False)


def _assert_unavailable(response: Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert body["detail"].startswith("数据库暂时不可用")
    assert response.headers["Retry-After"] == "5"
    # Where the database lives is for the log only (issue 13, finding 3).
    assert "127.0.0.1" not in response.text
    assert "SELECT" not in response.text
    assert "INSERT" not in response.text


def _persons(engine: Engine, prefix: str) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT code FROM person WHERE code LIKE :p ORDER BY code"),
            {"p": f"{prefix}%"},
        )
        return list(rows.scalars())


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def _changes(engine: Engine) -> tuple[int, int]:
    """How many batches (what lookups watch) and audit entries were recorded."""
    return _count(engine, "import_batch"), _count(engine, "audit_log")


@contextmanager
def _stop_after_first(
    engine: Engine, server: PrivateServer, sql: str
) -> Iterator[list[str]]:
    """Stop the server right after the first statement starting with ``sql`` ran.

    Yields the statements that ran before the stop, to show the cut came mid-write.
    """
    seen: list[str] = []

    def stop(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if server.is_running:
            seen.append(statement.split("(")[0].strip())
            if statement.lstrip().upper().startswith(sql):
                server.stop()

    event.listen(engine, "after_cursor_execute", stop)
    try:
        yield seen
    finally:
        event.remove(engine, "after_cursor_execute", stop)
        if not server.is_running:
            server.start()


def test_write_during_restart_fails_cleanly_and_service_recovers(
    backend: str, client: TestClient, engine: Engine, private_server: PrivateServer
) -> None:
    batches, audits = _changes(engine)
    assert _write(client, "RST-A1").status_code == 201
    assert _read(client).status_code == 200

    private_server.stop()
    try:
        _assert_unavailable(_write(client, "RST-A2"))
        # Lookups answer from memory and ask the database whether the data
        # changed once per recheck_s; after that they must fail cleanly too.
        time.sleep(client.app.state.lookup.recheck_s)  # type: ignore[attr-defined]
        _assert_unavailable(_read(client))
        _assert_unavailable(_read(client))  # and again: nothing got stuck
    finally:
        private_server.start()

    # Same app, same engine: the pool's pre-ping drops the dead connections.
    assert _write(client, "RST-A3").status_code == 201
    read = _read(client)
    assert read.status_code == 200
    assert read.json()["found"]
    assert _persons(engine, "RST-A") == ["RST-A1", "RST-A3"]
    assert _changes(engine) == (batches + 2, audits + 2)


def test_write_cut_off_mid_transaction_leaves_nothing(
    backend: str, client: TestClient, engine: Engine, private_server: PrivateServer
) -> None:
    batches, audits = _changes(engine)
    # The server goes down once the person row is inserted, before its audit
    # entry, its batch and the commit: a half-done write.
    with _stop_after_first(engine, private_server, "INSERT INTO PERSON") as ran:
        _assert_unavailable(_write(client, "RST-B1"))
    assert ran[-1] == "INSERT INTO person", ran

    assert _write(client, "RST-B2").status_code == 201
    assert _persons(engine, "RST-B") == ["RST-B2"]
    assert _changes(engine) == (batches + 1, audits + 1)
