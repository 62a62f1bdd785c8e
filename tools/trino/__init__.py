"""Trino on this machine: the engine Athena engine v3 is built on, for running the saved queries.

Interface (used by the end-to-end pipeline, tools/pipeline/ and tests/e2e/):

- ``tools.trino.install.ensure_trino() -> Path``: the unpacked, checksum-verified server
  (``make trino`` fetches it from Maven Central into ``.cache/trino/``); raises
  :class:`~tools.trino.install.TrinoNotInstalled`, naming ``make trino``, if it is missing.
- ``tools.trino.server.TrinoServer(curated_dir, quarantine_dir=None)``: a context manager that
  starts Trino on a free loopback port with a small heap, the curated Parquet folder (the Glue
  job's output, ``event_date=YYYY-MM-DD/*.parquet``) registered as the declared curated table
  (stacks/telemetry_tables.py) of the dev curated database, partitions registered as the curated
  crawler would; ``.query(sql, params=None) -> list[tuple]``; ``.point_at(curated_dir,
  quarantine_dir=None)`` re-points it at other folders without a restart; stops the JVM on exit.
- ``tools.trino.saved_queries.run_saved_query(server, name, parameters) -> list[tuple]``: runs
  the saved Athena query ``name`` (a key of glue_scripts/curated_table.py ``SAVED_QUERIES``, e.g.
  ``silent_devices``, or its saved name, ``silent-devices``) the way an analyst does: ``PREPARE`` then
  ``EXECUTE ... USING`` with the parameters as SQL literals, in UTC.
  ``saved_query_names() -> list[str]`` lists them. ``template=`` (a synthesised template or a
  cdk.out folder) takes the query text from its ``AWS::Athena::NamedQuery`` resources.
- ``tests.trino_fixture.trino_server``: the test session's server (marker ``trino``).

``python -m tools.trino.install`` is what ``make trino`` runs; pinned versions and checksums are
in tools/trino/artifacts.py.
"""
