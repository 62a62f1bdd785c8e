"""The session's Trino server, for any test that runs SQL as Athena would.

Use it from a conftest with ``from tests.trino_fixture import trino_server`` (pytest finds the
fixture by name); import ``pytest_collection_finish`` and ``pytest_sessionfinish`` too (as
tests/trino/conftest.py does; importing them from several conftests is harmless) to have the
server launched in the background as soon as collection finds a test marked ``trino``: its JVM
start, about 20 s on two idle cores, then overlaps the tests that run before. One server runs
per session; the fixture waits for it and stops it at the end of the session. It serves a
folder with no table yet; a test points it at its own Iceberg tables with
``trino_server.point_at(curated_table, quarantine_table=None)`` (table folders; well under a
second, no restart). Tests that use it carry the ``trino`` marker
(``pytestmark = pytest.mark.trino``), so that a fast tier can leave them out with
``-m "not trino"``.

The server must have been installed (``make trino``; ``make test`` does it first): a missing
installation is an error naming that command, not a skip, so that CI cannot pass without
running the queries.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.trino.install import TrinoNotInstalled, ensure_trino
from tools.trino.server import TrinoServer

_SERVER = pytest.StashKey[TrinoServer]()


def _launch(config: pytest.Config) -> TrinoServer:
    server = config.stash.get(_SERVER, None)
    if server is None:
        server = TrinoServer(Path(tempfile.mkdtemp(prefix="trino-curated-")))
        config.stash[_SERVER] = server
        server.launch()
    return server


def pytest_collection_finish(session: pytest.Session) -> None:
    if any(item.get_closest_marker("trino") for item in session.items):
        try:
            ensure_trino()
        except TrinoNotInstalled:
            return  # the fixture reports it, on the tests that need the server
        _launch(session.config)


def _stop(config: pytest.Config) -> None:
    server = config.stash.get(_SERVER, None)
    if server is not None:
        folder = server.curated_dir
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
        del config.stash[_SERVER]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stops a server launched at collection that no test ended up using."""
    _stop(session.config)


@pytest.fixture(scope="session")
def trino_server(request: pytest.FixtureRequest) -> Iterator[TrinoServer]:
    try:
        ensure_trino()
    except TrinoNotInstalled as error:
        pytest.fail(str(error), pytrace=False)
    server = _launch(request.config)
    try:
        server.wait_until_ready()
        yield server
    finally:
        _stop(request.config)
