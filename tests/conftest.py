"""Fixtures: both storage backends, real data, and the PostGIS must-run guard.

Every test that takes ``db`` runs once on SpatiaLite and once on PostGIS.
SpatiaLite tests get their own copy of a migrated template file; PostGIS tests
run inside an outer transaction that services join with savepoints and that
is rolled back afterwards. PostGIS missing skips locally and fails in CI.
"""

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from geogrid.store.engine import Bind, init_db, make_engine

BACKENDS = ("spatialite", "postgis")
REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "boundaries"
DEFAULT_PG_URL = "postgresql+psycopg://geogrid:geogrid@127.0.0.1:5432/postgres"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-postgis",
        action="store_true",
        help="fail instead of skipping when PostGIS is not reachable (set in CI)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Served apps and CLI lookups keep snapshots in the user's cache folder:
    # a run writes its own, never the developer's, and never reads theirs.
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="geogrid-test-cache-")


def _require_postgis(config: pytest.Config) -> bool:
    return bool(os.environ.get("CI")) or bool(config.getoption("--require-postgis"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        names = marker.args if marker else BACKENDS
        params = [
            pytest.param(n, marks=[pytest.mark.postgis] if n == "postgis" else [], id=n)
            for n in names
        ]
        metafunc.parametrize("backend", params)


_postgis_passed = 0


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    global _postgis_passed
    if report.when == "call" and report.passed and "[postgis" in report.nodeid:
        _postgis_passed += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Belt and braces (geopandas' CI does the same): in CI a run in which no
    # PostGIS test passed is a failure, whatever else happened.
    selected = any("[postgis" in item.nodeid for item in session.items)
    if _require_postgis(session.config) and selected and _postgis_passed == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print("\nFAILED: no PostGIS test passed; PostGIS is required in CI")  # noqa: T201


def skip_or_fail(config: pytest.Config, reason: str) -> None:
    """Skip with a visible reason locally; fail in CI (geoalchemy2's rule)."""
    if _require_postgis(config):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def realdata(pytestconfig: pytest.Config) -> Path:
    """../shared/realdata, or a visible skip (a failure in CI) when it is absent."""
    if not REALDATA.is_dir():
        reason = f"../shared/realdata not found at {REALDATA}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return REALDATA


@pytest.fixture(scope="session")
def spatialite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    init_db(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgis_admin_url(pytestconfig: pytest.Config) -> str:
    url = os.environ.get("GEOGRID_TEST_POSTGRES_URL", DEFAULT_PG_URL)
    probe = create_engine(url, poolclass=NullPool)
    try:
        probe.connect().close()
    except Exception as exc:  # noqa: BLE001  # any failure to connect means the same here
        skip_or_fail(pytestconfig, f"PostGIS not reachable at {url}: {exc}")
    return url


class PostgisDatabases:
    """A migrated template database and fresh copies of it, dropped at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin = create_engine(
            admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        self.base = make_url(admin_url)
        self.names: list[str] = []
        self.template = self._create(f"geogrid_tpl_{os.getpid()}", template=None)
        engine = make_engine(self.url(self.template))
        init_db(engine)
        engine.dispose()

    def url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, *, template: str | None) -> str:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            clause = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.names.append(name)
        return name

    def fresh(self) -> str:
        """A new database copied from the migrated template; returns its URL."""
        return self.url(self.create_from(self.template))

    def create_from(self, template: str) -> str:
        """A new database copied from ``template``; returns its name."""
        return self._create(f"geogrid_t_{uuid.uuid4().hex[:10]}", template=template)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in reversed(self.names):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgis_databases(postgis_admin_url: str) -> Iterator[PostgisDatabases]:
    dbs = PostgisDatabases(postgis_admin_url)
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def postgis_engine(postgis_databases: PostgisDatabases) -> Iterator[Engine]:
    engine = make_engine(postgis_databases.fresh())
    yield engine
    engine.dispose()


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty, migrated database of ``backend`` that the test owns."""
    if backend == "spatialite":
        path = tmp_path / "geogrid.sqlite"
        shutil.copyfile(request.getfixturevalue("spatialite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgis_databases").fresh()


@pytest.fixture
def db(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bind]:
    """Where a test's services write: rolled back or thrown away afterwards."""
    if backend == "spatialite":
        path = tmp_path / "geogrid.sqlite"
        shutil.copyfile(request.getfixturevalue("spatialite_template"), path)
        engine = make_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    engine = request.getfixturevalue("postgis_engine")
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture(scope="session")
def _samples() -> Iterator[dict[str, Engine]]:
    built: dict[str, Engine] = {}
    yield built
    for engine in built.values():
        engine.dispose()


@pytest.fixture
def sample_db(
    backend: str,
    request: pytest.FixtureRequest,
    _samples: dict[str, Engine],
    tmp_path_factory: pytest.TempPathFactory,
) -> Engine:
    """The sample county, imported and assigned once per backend; tests must only read it."""
    if backend not in _samples:
        from geogrid.services.demo import build_sample

        if backend == "spatialite":
            path = tmp_path_factory.mktemp("sample") / "sample.sqlite"
            shutil.copyfile(request.getfixturevalue("spatialite_template"), path)
            url = f"sqlite:///{path}"
        else:
            url = request.getfixturevalue("postgis_databases").fresh()
        engine = make_engine(url)
        build_sample(engine, SAMPLE, tolerance_m=5.0)
        _samples[backend] = engine
    return _samples[backend]


@pytest.fixture
def sample_copy(
    backend: str, sample_db: Engine, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Engine]:
    """A private copy of the sample county that a test may change."""
    sample_db.dispose()  # PostgreSQL copies a template only with no one connected
    if backend == "spatialite":
        path = tmp_path / "sample.sqlite"
        shutil.copyfile(sample_db.url.database or "", path)
        url = f"sqlite:///{path}"
    else:
        dbs: PostgisDatabases = request.getfixturevalue("postgis_databases")
        url = dbs.url(dbs.create_from(sample_db.url.database or ""))
    engine = make_engine(url)
    yield engine
    engine.dispose()
