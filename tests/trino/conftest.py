# The session's Trino server (launched in the background when collection finds a `trino` test).
from tests.trino_fixture import pytest_collection_finish, pytest_sessionfinish, trino_server  # noqa: F401
