from tests.trino_fixture import trino_server  # noqa: F401 - the session's server, by fixture name
