"""A Trino server over the job's local Iceberg tables, for the tests and ``make pipeline``.

``TrinoServer(curated_table, quarantine_table=None)`` is a context manager; both arguments are
Iceberg table folders (the ``<warehouse>/<database>/<table>`` folders the job's local Hadoop
catalog writes: ``metadata/`` and ``data/``). On entry it starts the pinned Trino
(tools/trino/install.py; ``make trino`` fetches it) with the newer JDK (``TRINO_JAVA_HOME``,
default tools/trino/artifacts.py ``DEFAULT_JAVA_HOME``) on a free loopback port, with a small
heap (``-Xmx1G``), its node data, metastore and logs in a temporary directory that is removed on
exit. One catalog, ``awsdatacatalog`` (Athena's name for the Glue Data Catalog), is the Iceberg
connector over a file metastore and Trino's native local file system.

How Trino sees the tables Spark wrote: Spark's local catalog (a Hadoop catalog) and Trino's
(a metastore) are different catalogs over the same files, so each table is registered in
Trino's metastore with ``CALL system.register_table`` (``iceberg.register-table-procedure.enabled``)
naming the table folder and its newest metadata file. A metastore entry points at one metadata
file, while on AWS the Glue Data Catalog entry is moved by every commit; so before every saved
query :meth:`TrinoServer.refresh_tables` re-registers each table at its newest metadata (well
under a second), as if the catalogs were one. A shared catalog (JDBC or REST) would avoid the
step but needs a database or a catalog server neither Glue nor Athena has; the registration
keeps both engines on their own, AWS-like catalogs.

In it, the schema named like the environment's curated Glue database (``analytics_dev_curated``
by default) holds the curated table (``telemetry``) and, when given, the quarantine
(``telemetry_quarantine``), as glue_scripts/curated_table.py defines them.

Every query runs with the session time zone UTC, as Athena's, in catalog ``awsdatacatalog`` and
the curated schema. ``.query(sql, params=None) -> list[tuple]`` returns the rows as the ``trino``
client types them (``datetime`` for timestamps, ``date``, ``dict`` for maps, ``float``, ...).
``params`` are bound by the client (``EXECUTE IMMEDIATE ... USING``); saved queries go through
tools/trino/saved_queries.py instead, which spells out ``PREPARE``/``EXECUTE ... USING``.
The tables' timestamps are Iceberg ``timestamptz``: Trino reads them as
``timestamp(6) with time zone`` in UTC, to the microsecond, as Athena reads Iceberg tables (no
rounding to milliseconds, unlike the Hive table of before issue 19).

``point_at(curated_table, quarantine_table=None)`` re-points the catalog at other tables without
a restart (the test session starts one server and gives each test its own data); a folder that
holds no table yet registers nothing. Keyword arguments: ``database=`` (another environment's
curated database name) and ``heap=`` (default ``1G``). ``launch()`` then ``wait_until_ready()``
is ``start()`` in two halves, so that the JVM's start (about 17 s of wall time on two idle cores,
14 s of CPU; 35 to 50 s when the cores are shared) overlaps other work.

Stopping: ``__exit__`` (and ``stop()``) sends SIGTERM to the server's process group, waits at
most 15 s, then SIGKILLs it; the JVM also gets SIGKILL from the kernel if
this Python process dies first (``PR_SET_PDEATHSIG``), so a killed test run leaves no server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from glue_scripts.curated_table import QUARANTINE_TABLE_NAME, TABLE_NAME
from tools.iceberg.tables import latest_metadata_file
from tools.trino.artifacts import DEFAULT_JAVA_HOME
from tools.trino.install import ensure_trino

#: Athena's catalog name for the Glue Data Catalog, in Trino's lower case.
CATALOG = "awsdatacatalog"
HEAP = "1G"
#: A bound, not a wait: about 17 s on a quiet 2-core machine; one start measured over 180 s with
#: the machine at load 12 (the suite's synths, the packaging check and other work beside it).
START_TIMEOUT_SECONDS = 420
STOP_TIMEOUT_SECONDS = 15
QUERY_TIMEOUT_SECONDS = 120
PORT_ATTEMPTS = 3


class TrinoStartError(RuntimeError):
    """The server did not come up; the message carries the end of its log."""


def java_home() -> Path:
    home = Path(os.environ.get("TRINO_JAVA_HOME", DEFAULT_JAVA_HOME))
    if not (home / "bin" / "java").exists():
        raise TrinoStartError(
            f"no java at {home}/bin/java: Trino 476 needs Java 24 or newer; set TRINO_JAVA_HOME to its JDK"
        )
    return home


def default_database(env_name: str = "dev") -> str:
    """The environment's curated Glue database name, as the catalog stack names it."""
    from config import load_config
    from constructs_lib import ResourceNamer

    environment = load_config(env_name).environment
    return ResourceNamer(project=environment.project, stage=environment.name).sql_name("curated")


# --- The tables ----------------------------------------------------------------------------------

#: The job's tables, named as glue_scripts/curated_table.py names them.
CURATED_TABLE = TABLE_NAME
QUARANTINE_TABLE = QUARANTINE_TABLE_NAME
__all__ = ["CURATED_TABLE", "QUARANTINE_TABLE", "TrinoServer", "latest_metadata_file"]


# --- The server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _local_uri(path: Path) -> str:
    """A folder as the native local file system names it (``local.location`` is ``/``)."""
    return "local://" + str(Path(path).resolve())


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the parent dies (Linux; elsewhere a no-op)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class TrinoServer:
    """``with TrinoServer(curated_dir) as server: server.query("SELECT ...")``."""

    def __init__(
        self,
        curated_table: Path,
        quarantine_table: Path | None = None,
        *,
        database: str | None = None,
        heap: str = HEAP,
    ) -> None:
        self.curated_dir = Path(curated_table)
        self.quarantine_dir = Path(quarantine_table) if quarantine_table else None
        self.database = database or default_database()
        self.heap = heap
        self.port: int | None = None
        self.workdir: Path | None = None
        self.process: subprocess.Popen | None = None
        self.start_seconds: float | None = None
        self._databases: set[str] = set()
        self._connection = None
        self._log = None
        self._launched_at = 0.0

    # -- lifecycle

    def __enter__(self) -> TrinoServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Launch the server and wait until it answers, with the tables registered."""
        self.launch()
        self.wait_until_ready()

    def launch(self) -> None:
        """Start the JVM and return at once (``wait_until_ready`` completes the start): a test
        session launches it early so that its start overlaps other work."""
        if self.process is not None:
            raise RuntimeError("this TrinoServer is already running")
        self._launched_at = time.monotonic()
        try:
            self._launch()
        except BaseException:
            self.stop()
            raise

    def _launch(self) -> None:
        home = ensure_trino()
        java = java_home() / "bin" / "java"
        self.workdir = Path(tempfile.mkdtemp(prefix="trino-"))
        self.port = free_port()
        etc = self.workdir / "etc"
        (etc / "catalog").mkdir(parents=True)
        (self.workdir / "metastore").mkdir()
        # Only the Iceberg connector: loading the core's other plugins costs start time for nothing.
        plugins = self.workdir / "plugin"
        plugins.mkdir()
        (plugins / "iceberg").symlink_to(home / "plugin" / "iceberg", target_is_directory=True)
        (etc / "config.properties").write_text(
            "\n".join(
                [
                    "coordinator=true",
                    "node-scheduler.include-coordinator=true",
                    f"http-server.http.port={self.port}",
                    f"discovery.uri=http://127.0.0.1:{self.port}",
                    "node.environment=local",
                    "node.id=local-trino",
                    "node.bind-ip=127.0.0.1",
                    "node.internal-address=127.0.0.1",
                    f"plugin.dir={plugins}",
                    "catalog.management=static",
                    f"catalog.config-dir={etc / 'catalog'}",
                    "query.max-memory=512MB",
                    "query.max-memory-per-node=512MB",
                    # Two shared cores: few threads, no spilling.
                    "task.concurrency=2",
                    "task.max-worker-threads=4",
                    "http-server.threads.max=50",
                    "http-server.log.enabled=false",
                    "",
                ]
            )
        )
        (etc / "catalog" / f"{CATALOG}.properties").write_text(
            "\n".join(
                [
                    "connector.name=iceberg",
                    # Trino's file metastore (the Iceberg connector names it testing_file_metastore).
                    "iceberg.catalog.type=testing_file_metastore",
                    f"hive.metastore.catalog.dir={_local_uri(self.workdir / 'metastore')}",
                    # Tables written by Spark are registered, not created, here (see the module docstring).
                    "iceberg.register-table-procedure.enabled=true",
                    "fs.native-local.enabled=true",
                    "local.location=/",
                    "iceberg.security=allow-all",
                    "",
                ]
            )
        )
        (etc / "log.properties").write_text("io.trino=WARN\nio.airlift=WARN\n")
        command = [
            str(java),
            f"-Xmx{self.heap}",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-XX:+ExitOnOutOfMemoryError",
            "-XX:-OmitStackTraceInFastThrow",
            "-XX:ReservedCodeCacheSize=150M",
            "-Djdk.attach.allowAttachSelf=true",
            "-XX:+EnableDynamicAgentLoading",
            "--enable-native-access=ALL-UNNAMED",
            "-Dfile.encoding=UTF-8",
            "-Duser.timezone=UTC",
            f"-Dconfig={etc / 'config.properties'}",
            f"-Dlog.levels-file={etc / 'log.properties'}",
            f"-Dlog.output-file={self.workdir / 'server.log'}",
            "-cp",
            str(home / "lib" / "*"),
            "io.trino.server.TrinoServer",
        ]
        self._log = (self.workdir / "stdout.log").open("wb")
        (self.workdir / "data").mkdir()  # the node's data directory is its working directory
        self.process = subprocess.Popen(
            command,
            cwd=self.workdir / "data",
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            env={**os.environ, "JAVA_HOME": str(java.parent.parent)},
        )

    def wait_until_ready(self) -> None:
        """Block until the launched server runs queries, then register the tables."""
        if self.process is None:
            raise RuntimeError("TrinoServer.wait_until_ready before launch")
        if self.start_seconds is not None:
            return
        first_launch = self._launched_at
        for attempt in range(PORT_ATTEMPTS):
            try:
                self._wait_until_ready(self._launched_at)
                break
            except TrinoStartError as error:
                # free_port() closes the port before Trino binds it: another process may take
                # it in between. Only then is a new launch, on another port, worth it.
                log = self._log_text()
                lost_port = "Address already in use" in log or "Failed to bind" in log
                self.stop()
                if not lost_port or attempt == PORT_ATTEMPTS - 1:
                    raise
                self.launch()
            except BaseException:
                self.stop()
                raise
        try:
            self.start_seconds = time.monotonic() - first_launch
            self.point_at(self.curated_dir, self.quarantine_dir)
        except BaseException:
            self.stop()
            raise

    def _log_text(self) -> str:
        if self.workdir is None:
            return ""
        texts = []
        for name in ("stdout.log", "server.log"):
            try:
                texts.append((self.workdir / name).read_text(errors="replace"))
            except OSError:
                pass
        return "\n".join(texts)

    def _log_tail(self, lines: int = 15) -> str:
        """The log's error lines (a Guice failure ends in a long legend) and its last lines."""
        text = self._log_text().splitlines()
        errors = [line for line in text if re.search(r"\bERROR\b|Caused by|Exception:|^\d+\) ", line)]
        return "\n".join(["... errors:", *errors[:20], "... last lines:", *text[-lines:]])

    def _wait_until_ready(self, started: float) -> None:
        url = f"http://127.0.0.1:{self.port}/v1/info"
        while True:
            if self.process.poll() is not None:
                raise TrinoStartError(
                    f"Trino exited with {self.process.returncode} while starting; end of its log:\n{self._log_tail()}"
                )
            if time.monotonic() - started > START_TIMEOUT_SECONDS:
                raise TrinoStartError(f"Trino did not start in {START_TIMEOUT_SECONDS} s; end of its log:\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if not json.load(response).get("starting", True):
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                pass
            time.sleep(0.25)
        # Started is not yet ready: until the node has announced itself to the coordinator's
        # discovery, queries fail with NO_NODES_AVAILABLE.
        from trino.exceptions import TrinoQueryError

        while True:
            try:
                self.query("SELECT 1")
                return
            except TrinoQueryError as error:
                if error.error_name != "NO_NODES_AVAILABLE":
                    raise
            if self.process.poll() is not None or time.monotonic() - started > START_TIMEOUT_SECONDS:
                raise TrinoStartError(f"Trino started but never ran a query; end of its log:\n{self._log_tail()}")
            time.sleep(0.25)

    def stop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # noqa: BLE001 - closing a client of a dying server
                pass
            self._connection = None
        if self.process is not None:
            if self.process.poll() is None:
                self._signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    self._signal(signal.SIGKILL)
                    self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            self.process = None
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        self._databases.clear()
        self.start_seconds = None

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.process.pid, sig)  # its own session: the JVM and anything it started
        except ProcessLookupError:
            pass

    # -- catalog

    def point_at(self, curated_table: Path, quarantine_table: Path | None = None) -> None:
        """Register these Iceberg table folders as the curated table (and the quarantine)."""
        self.curated_dir = Path(curated_table)
        self.quarantine_dir = Path(quarantine_table) if quarantine_table else None
        for database in sorted(self._databases | {self.database}):
            self._register(database)

    def ensure_database(self, database: str) -> None:
        """The tables also under ``database`` (another environment's saved query)."""
        if database not in self._databases:
            self._register(database)

    def _tables(self) -> dict[str, Path | None]:
        return {CURATED_TABLE: self.curated_dir, QUARANTINE_TABLE: self.quarantine_dir}

    def _register(self, database: str) -> None:
        self.execute(f'CREATE SCHEMA IF NOT EXISTS "{database}"')
        self._databases.add(database)
        self.refresh_tables(database)

    def refresh_tables(self, database: str | None = None) -> None:
        """Point each table of ``database`` (default: every one) at its folder's newest metadata
        file, as a Glue Data Catalog entry always is after a commit: unregister (metadata only,
        files untouched) and register again. A folder without a table registers nothing."""
        for db in [database] if database else sorted(self._databases):
            for table, folder in self._tables().items():
                registered = self.query(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [db, table]
                )[0][0]
                if registered:
                    self.execute(f"CALL system.unregister_table(schema_name => '{db}', table_name => '{table}')")
                metadata = latest_metadata_file(folder) if folder is not None else None
                if metadata is not None:
                    # The location exactly as the table's metadata states it (Trino insists).
                    location = json.loads((folder / "metadata" / metadata).read_text())["location"]
                    self.execute(
                        f"CALL system.register_table(schema_name => '{db}', table_name => '{table}', "
                        f"table_location => '{location}', metadata_file_name => '{metadata}')"
                    )

    # -- queries

    def connection(self):
        """A ``trino.dbapi`` connection: catalog awsdatacatalog, the curated schema, UTC."""
        if self.process is None:
            raise RuntimeError("TrinoServer is not running: use it as a context manager")
        if self._connection is None:
            import trino

            self._connection = trino.dbapi.connect(
                host="127.0.0.1",
                port=self.port,
                user="analyst",
                catalog=CATALOG,
                schema=self.database,
                timezone="UTC",
                request_timeout=QUERY_TIMEOUT_SECONDS,
                source="tools.trino",
            )
        return self._connection

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        """The rows of ``sql`` (one statement, no trailing semicolon) as tuples."""
        cursor = self.connection().cursor()
        try:
            cursor.execute(sql, params) if params else cursor.execute(sql)
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def execute(self, sql: str) -> None:
        self.query(sql)

    def columns(self, sql: str) -> list[str]:
        """The column names ``sql`` returns (runs it)."""
        cursor = self.connection().cursor()
        try:
            cursor.execute(sql)
            cursor.fetchall()
            return [d[0] for d in cursor.description]
        finally:
            cursor.close()
