"""One local Spark session for the whole Glue test suite (starting one takes seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession

from glue_scripts.raw_to_curated import create_local_session

#: local[1] and two shuffle partitions: the fixtures are tiny, so more parallelism only adds
#: task overhead.
SHUFFLE_PARTITIONS = 2


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    session = create_local_session("local[1]", driver_memory="1g", shuffle_partitions=SHUFFLE_PARTITIONS)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
