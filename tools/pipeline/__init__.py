"""The whole data path on this machine, without AWS (``make pipeline``, ``tests/e2e/``).

Stages, one module each: :mod:`~tools.pipeline.fleet` (simulated devices -> labelled Kinesis
records), :mod:`~tools.pipeline.delivery_config` (the raw-zone delivery stream's settings, read
from the synthesised dev template), :mod:`~tools.pipeline.firehose` (Firehose emulated around
the real transform handler), :mod:`~tools.pipeline.curation` (the Glue job in local mode, in
incremental runs), :mod:`~tools.pipeline.queries` (the saved queries on Trino). Around them:
:mod:`~tools.pipeline.truth` (the ground truth from the fleet's labels alone),
:mod:`~tools.pipeline.inventory` (counts read from the files), :mod:`~tools.pipeline.report`
and :mod:`~tools.pipeline.run` (the orchestration and command line).
"""
