"""Kept for compatibility: ``constructs_lib.firehose_processing``, documented before 0.7.0, moved to
``constructs_lib.common.firehose_processing`` (see CHANGELOG.md). The names it offered are importable from
here as before: the same objects.
"""

from constructs_lib.common.firehose_processing import (
    ABOVE as ABOVE,
    AlarmSpec as AlarmSpec,
    BELOW as BELOW,
    DEFAULT_METRICS_NAMESPACE as DEFAULT_METRICS_NAMESPACE,
    FIREHOSE_SSE_WITH_KINESIS_SOURCE as FIREHOSE_SSE_WITH_KINESIS_SOURCE,
    FIVE_MINUTES as FIVE_MINUTES,
    MAX_MEMORY_MIB as MAX_MEMORY_MIB,
    MAX_PROCESSOR_BUFFER_INTERVAL_SECONDS as MAX_PROCESSOR_BUFFER_INTERVAL_SECONDS,
    MAX_PROCESSOR_BUFFER_MIB as MAX_PROCESSOR_BUFFER_MIB,
    MIN_MEMORY_MIB as MIN_MEMORY_MIB,
    MIN_PROCESSOR_BUFFER_INTERVAL_SECONDS as MIN_PROCESSOR_BUFFER_INTERVAL_SECONDS,
    TRANSFORM_ARCHITECTURE as TRANSFORM_ARCHITECTURE,
    TRANSFORM_RUNTIME as TRANSFORM_RUNTIME,
    TransformFunction as TransformFunction,
    create_alarms as create_alarms,
    firehose_metric as firehose_metric,
    transform_alarm_specs as transform_alarm_specs,
    transform_function as transform_function,
)
