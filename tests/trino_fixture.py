"""The session's Trino server, for any test that runs SQL as Athena would.

Use it from a conftest or a test module with ``from tests.trino_fixture import trino_server``
(pytest then finds the fixture by name). One server is started per session (about 20 s on two
shared cores) over an empty curated folder; a test points it at its own data with
``trino_server.point_at(curated_dir, quarantine_dir=None)`` (milliseconds, no restart). Tests
that use it should carry the ``trino`` marker (``pytestmark = pytest.mark.trino``) so that a
fast tier can leave them out with ``-m "not trino"``.

The server must have been installed (``make trino``; ``make test`` does it first): a missing
installation is an error naming that command, not a skip, so that CI cannot pass without
running the queries.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tools.trino.install import TrinoNotInstalled, ensure_trino
from tools.trino.server import TrinoServer


@pytest.fixture(scope="session")
def trino_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrinoServer]:
    try:
        ensure_trino()
    except TrinoNotInstalled as error:
        pytest.fail(str(error), pytrace=False)
    with TrinoServer(tmp_path_factory.mktemp("trino-curated")) as server:
        yield server
