r"""Raw telemetry JSON lines (Firehose, GZIP) -> curated, partitioned Parquet + a quarantine.

Every raw line gets exactly one outcome: it is curated (Snappy Parquet under
``<curated>/event_date=YYYY-MM-DD/``) or quarantined (gzip JSON lines under
``<quarantine>/run_id=<run_id>/``) with one reason from :data:`QUARANTINE_REASONS`. The job
counts what it read and what it will write and refuses to write anything if the two disagree
(:class:`RowCountMismatch`); after writing it counts the rows in the files it wrote and fails
the run if they do not add up either (:class:`WrittenRowsMismatch`), so a row can never be lost
or doubled silently. Nothing curated is altered: a value the curated table could not hold
exactly (an integer a double cannot hold, a string that is not valid Unicode, a time finer
than a microsecond) is quarantined with its own reason, as the Firehose transform rejects it.

Layout of this module: pure PySpark transforms (DataFrame in, DataFrame out; the only I/O is
in the functions named ``read_*``/``write_*`` and in the checks of what was written,
``list_outputs``/``count_written``), the orchestration :func:`curate`, the local
command line (``python -m glue_scripts.raw_to_curated --local --input DIR --output DIR``) and a
thin Glue entry point, :func:`glue_main`, the only code that imports ``awsglue`` (inside the
function: it cannot be installed outside Glue). Nothing here imports the rest of the
repository, because Glue runs this file on its own; the contract rules it needs are copied below
and ``tests/glue/test_contract_constants.py`` keeps the copies equal to ``telemetry_contract``.

Why validation looks the way it does (Spark SQL expressions only, no Python UDFs, for speed):

* ``from_json`` in PERMISSIVE mode turns a value it cannot convert into NULL (``"1"`` for an
  int) and renders any JSON value into a string field (``42`` becomes ``"42"``). So each line is
  parsed twice: once as ``map<string,string>`` (which keys are present, the value's text, and
  the canonical text of ``metrics``/``attributes``) and once with the typed schema. A value that
  is present but NULL after the typed parse is a type error, never a NULL in the curated table.
* For string fields the typed parse cannot tell ``"42"`` from ``42``. Where the text of a
  non-string would pass the field's own check (``device_id``, ``event_hour``) the raw line is
  checked for a JSON string at that key; elsewhere the strict formats already reject it.
* Parsing that fails throws inside Spark, which costs time per row; the schemas are chosen so
  that valid rows never fail a parse.
* ``from_json`` ignores text after the first JSON value, so the line is also checked to be
  exactly one JSON value (``json_array_length('[' || line || ']') = 1``): two readings glued
  together, or a truncated one, are quarantined instead of half-read.
* Spark's text reader keeps a line's bytes as they are, but ``from_json`` (and every string
  function and writer) reads bytes that are not UTF-8 as U+FFFD, and a lone surrogate escape
  (``\ud83d``) becomes a Java string that UTF-8 Parquet stores as ``?``. Both are checked on the
  line's text before anything is parsed from it.
* ``metrics`` is parsed as ``map<string,double>``, which rounds an integer beyond 2^53 without a
  word; the integer literals of the metrics object's text are compared with their doubles in
  exact decimal arithmetic (only on lines with a value of 2^53 or more, i.e. almost never).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import logging
import re
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

LOG = logging.getLogger("raw_to_curated")

# --- The curated and quarantine tables -------------------------------------------------------

#: Data columns of the curated table, in order, with their Spark SQL types.
CURATED_COLUMNS = (
    ("device_id", "string"),
    ("event_time", "timestamp"),
    ("ingested_at", "timestamp"),
    ("schema_version", "int"),
    ("metrics", "map<string,double>"),
    ("attributes", "map<string,string>"),
)
#: The curated table's partition column (Hive-style folders ``event_date=2026-11-23``).
PARTITION_COLUMN = "event_date"
PARTITION_TYPE = "date"
#: Columns of a quarantined row, in order, with their Spark SQL types.
QUARANTINE_COLUMNS = (
    ("raw_line", "string"),
    # The line's exact bytes, base64, for a line that is not UTF-8 (null otherwise): raw_line,
    # a JSON string, can only show such a line with U+FFFD in place of its bad bytes.
    ("raw_line_base64", "string"),
    ("reason", "string"),
    ("source_file", "string"),
    ("run_id", "string"),
    ("quarantined_at", "timestamp"),
)
#: A reading's identity: the same key arriving twice is a redelivery (at-least-once delivery).
KEY_COLUMNS = ("device_id", "event_time")
#: A run writes one file per event date; a date with more rows than this gets more files.
#: At the ~21 bytes a row measured by benchmarks/curation_job.py, a full file is ~128 MB:
#: large enough for efficient scans, small enough to split work across readers.
MAX_RECORDS_PER_FILE = 6_000_000

# --- Copies of the telemetry contract (lambda_src/telemetry_contract.py) ---------------------

SUPPORTED_SCHEMA_VERSIONS = (1,)
DEVICE_ID_PATTERN = r"[A-Za-z0-9_-]{1,128}"
METRIC_NAME_PATTERN = r"[A-Za-z][A-Za-z0-9_]{0,63}"
ATTRIBUTE_NAME_PATTERN = METRIC_NAME_PATTERN
MAX_METRICS = 100
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_VALUE_LENGTH = 256
EARLIEST_EVENT_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
LATEST_EVENT_TIME = dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)
#: Keys of a normalised reading (a raw line); no other key is allowed.
NORMALISED_FIELDS = (
    "schema_version", "device_id", "event_time", "ingested_at", "metrics", "attributes", "event_date", "event_hour",
)
#: Keys a raw line must have with a non-null value: the contract's required fields plus the
#: partition keys the Firehose transform adds. ``ingested_at`` and ``attributes`` may be null.
REQUIRED_FIELDS = ("schema_version", "device_id", "event_time", "metrics", "event_date", "event_hour")
OPTIONAL_FIELDS = ("attributes", "ingested_at")
#: ``format_timestamp``'s canonical form: UTC, ``Z``, milliseconds, or microseconds when the
#: sub-millisecond digits are not all zero (so each instant has one text; a seventh digit, which
#: Spark's cast would silently drop, never matches).
TIMESTAMP_PATTERN = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(?:(?!000)\d{3})?Z"

# --- Quarantine reasons, in the order they are tested (a row gets the first that applies) ----

NOT_UTF8 = "not_utf8"  # the line's bytes are not UTF-8 (kept exactly in raw_line_base64)
NOT_JSON_OBJECT = "not_json_object"  # not exactly one JSON object (invalid JSON, an array, trailing text)
INVALID_UNICODE = "invalid_unicode"  # a JSON string holds a lone surrogate escape (not valid Unicode)
UNKNOWN_FIELD = "unknown_field"  # a key outside NORMALISED_FIELDS
MISSING_FIELD = "missing_field:"  # + name: a required key absent or null
BAD_TYPE = "bad_type:"  # + name: a JSON value of the wrong type (see TYPE_CHECKED_FIELDS)
UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version"
BAD_DEVICE_ID = "bad_device_id"  # does not match DEVICE_ID_PATTERN
BAD_EVENT_TIME = "bad_event_time"  # not a TIMESTAMP_PATTERN string, not a real time, or outside 2000..2100
BAD_INGESTED_AT = "bad_ingested_at"  # present but, like bad_event_time, not a usable time
PARTITION_MISMATCH = "partition_mismatch"  # event_date/event_hour are not the UTC date/hour of event_time
BAD_METRICS = "bad_metrics"  # empty, > MAX_METRICS, a bad name, a non-numeric, null or non-finite value
INEXACT_METRIC = "inexact_metric"  # an integer literal a double cannot hold exactly (|n| > 2^53, mostly)
BAD_ATTRIBUTES = "bad_attributes"  # > MAX_ATTRIBUTES, a bad name, a non-string or over-long value
DUPLICATE = "duplicate"  # the key was curated already, in this run or an earlier one
#: Fields whose JSON type is checked as such; the others' strict formats reject a wrong type.
TYPE_CHECKED_FIELDS = ("schema_version", "device_id", "event_hour", "metrics", "attributes")
QUARANTINE_REASONS = (
    NOT_UTF8,
    NOT_JSON_OBJECT,
    INVALID_UNICODE,
    UNKNOWN_FIELD,
    *(MISSING_FIELD + name for name in REQUIRED_FIELDS),
    *(BAD_TYPE + name for name in TYPE_CHECKED_FIELDS),
    UNSUPPORTED_SCHEMA_VERSION,
    BAD_DEVICE_ID,
    BAD_EVENT_TIME,
    BAD_INGESTED_AT,
    PARTITION_MISMATCH,
    BAD_METRICS,
    INEXACT_METRIC,
    BAD_ATTRIBUTES,
    DUPLICATE,
)

# --- Session, input and parsing --------------------------------------------------------------

#: Session settings the job depends on; set by the local session and by glue_main alike.
#: UTC: timestamps are parsed, partitioned and written as UTC whatever the cluster's zone.
#: TIMESTAMP_MICROS: the standard Parquet timestamp (UTC-adjusted), not Spark's legacy INT96.
#: Uncompressed cache: the persisted rows live only for the run, and compressing them cost
#: about as much CPU as parsing and validating them (measured on 1M benchmark rows).
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.inMemoryColumnarStorage.compressed": "false",
}
#: Shuffle partitions of a local run (a few per core).
LOCAL_SHUFFLE_PARTITIONS = 8
#: A raw line as read: its text and the file it came from.
LINE_COLUMNS = ("raw_line", "source_file")
#: Glue reads each line as a one-column CSV with this separator: a control character, which
#: JSON always escapes inside strings, so it never splits a well-formed line.
GLUE_LINE_SEPARATOR = "\u001f"
RUN_ID = re.compile(r"[A-Za-z0-9_.-]{1,128}")

# allowNonNumericNumbers=false: NaN/Infinity (bare or as "NaN" strings) are not numbers here,
# as in the contract.
_JSON_OPTIONS = {"mode": "PERMISSIVE", "allowNonNumericNumbers": "false"}
_TYPED_SCHEMA = "schema_version int, metrics map<string,double>, attributes map<string,string>"
# A JSON string, escapes unrolled so that Java's regex engine does not recurse per character.
_JSON_STRING = r'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
# The canonical (compact) text of an object whose values are all strings.
_FLAT_STRING_OBJECT = (
    rf"^\{{(?:{_JSON_STRING}:{_JSON_STRING}(?:,{_JSON_STRING}:{_JSON_STRING})*+)?\}}\z"
)
_EMPTY_ATTRIBUTES = "cast(map() as map<string,string>)"
# Any surrogate escape: the cheap test that lets almost every line skip the exact one below.
_SURROGATE_ESCAPE = r"\\u[dD][89a-fA-F]"
# The line's escapes, left to right, each consumed whole (so ``\\`` never starts another): a
# high-low surrogate pair, else a lone surrogate (captured), else any other escape.
_ESCAPE_UNIT = (
    r"(?s)\\(?:u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|(u[dD][89a-fA-F][0-9a-fA-F]{2})|.)"
)
#: Below this magnitude every double is an integer's exact value: a metric whose double is
#: smaller came from a literal that is exact (or from a decimal literal, a double by nature).
_TWO_53 = float(2**53)
_TWO_63 = float(2**63)
_TWO_126 = float(2**126)


def _full_match(pattern: str) -> str:
    """``pattern`` anchored for Spark's ``rlike`` (a search); ``\\z`` because Java's ``$`` also
    matches before a final newline."""
    return rf"^(?:{pattern})\z"


def configure_session(spark: SparkSession) -> SparkSession:
    """Apply :data:`SESSION_CONF` (runtime settings, so this works on Glue's session too)."""
    for key, value in SESSION_CONF.items():
        spark.conf.set(key, value)
    return spark


def create_local_session(
    master: str = "local[*]", *, driver_memory: str = "2g", shuffle_partitions: int = LOCAL_SHUFFLE_PARTITIONS
) -> SparkSession:
    """A local session (UI and progress bar off, :data:`SESSION_CONF` applied).

    ``getOrCreate``: a caller that already has a session (a test) gets that one, reconfigured.
    Few shuffle partitions: Spark's default of 200 would make hundreds of tiny tasks per step on
    one machine, and adaptive execution does not coalesce the persisted, shuffled rows."""
    session = (
        SparkSession.builder.master(master)
        .appName("raw_to_curated")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", driver_memory)
        .getOrCreate()
    )
    session.conf.set("spark.sql.shuffle.partitions", str(shuffle_partitions))
    return configure_session(session)


def read_raw_lines(spark: SparkSession, path: str) -> DataFrame:
    """Every line of every file under ``path`` (gzip by ``.gz`` extension, else plain text).

    ``recursiveFileLookup`` reads the ``event_date=/event_hour=`` folders without turning them
    into columns; each line is read as text, so a malformed line is kept and quarantined."""
    return (
        spark.read.option("recursiveFileLookup", "true")
        .text(path)
        .select(F.col("value").alias("raw_line"), F.col("_metadata.file_path").alias("source_file"))
    )


def lines_from_glue_frame(frame: DataFrame) -> DataFrame:
    """The raw lines from Glue's one-column CSV read (see :func:`glue_main`).

    A line containing the separator (only possible for a malformed one) is split into several
    columns; joining them back with the separator restores it (an empty piece, if Glue reads
    it as null, is dropped: the line is quarantined either way). A run that finds no new files
    gets a frame without columns, which becomes an empty batch."""
    data_columns = [name for name in frame.columns if name != "source_file"]
    if not data_columns:
        return frame.sparkSession.createDataFrame([], "raw_line string, source_file string")
    return frame.select(
        F.concat_ws(GLUE_LINE_SEPARATOR, *data_columns).alias("raw_line"), F.col("source_file")
    )


def _rendering(field: str) -> Column:
    """The field's value as text (a string unquoted, anything else as JSON); null if absent or null."""
    return F.col("_raw").getItem(field)


def _is_json_string(field: str) -> Column:
    """True if the raw line holds ``"field": "<the field's text>"``, i.e. the value is a JSON
    string. Used only for fields whose valid text has no quote or backslash (device id, hour).
    It could be fooled only by a nested key of the same name holding the same text as a string
    while the top-level value is a number or boolean."""
    pattern = rf'"{field}"\s*:\s*"([^"\\]*)"'
    return F.array_contains(F.regexp_extract_all("raw_line", F.lit(pattern), F.lit(1)), _rendering(field))


def _parse_time(field: str) -> Column:
    """The field's timestamp if its text has exactly the contract's form and is a real time,
    else null. ``try_cast`` rather than ``to_timestamp``: Spark's pattern parser raises (failing
    the job) on some strings its legacy parser accepted, such as February 30th."""
    text = _rendering(field)
    return F.when(text.rlike(_full_match(TIMESTAMP_PATTERN)), F.expr(f"try_cast(_raw['{field}'] as timestamp)"))


def _in_contract_range(moment: Column) -> Column:
    """The contract's 2000-01-01..2100-01-01: outside it a time is certainly wrong."""
    return (moment >= F.lit(EARLIEST_EVENT_TIME)) & (moment < F.lit(LATEST_EVENT_TIME))


def _not_utf8() -> Column:
    """True if the line's bytes are not UTF-8: decoding them (which replaces what is not UTF-8
    with U+FFFD, as Java does) changes them. A real U+FFFD in the line is valid and unchanged."""
    return F.col("raw_line") != F.decode(F.col("raw_line").cast("binary"), "UTF-8")


def _lone_surrogate() -> Column:
    """True if a JSON string in the line holds a surrogate escape that is not half of a
    high-low pair (``\\ud83d`` alone, a low one alone, or the two reversed). On the raw text,
    because from_json has already turned it into a Java string by the time a rule sees it."""
    lone = F.exists(F.regexp_extract_all("raw_line", F.lit(_ESCAPE_UNIT), F.lit(1)), lambda group: group != "")
    # contains() compares bytes; only a line with an escape is decoded for the regexes.
    maybe = F.col("raw_line").contains("\\u") & F.col("raw_line").rlike(_SURROGATE_ESCAPE)
    return F.when(maybe, lone).otherwise(F.lit(False))


def _inexact_integer(text: Column) -> Column:
    """True if ``text`` (a metric's JSON text) is an integer literal that a double cannot hold
    exactly, i.e. ``map<string,double>`` would change it.

    Exactly, without a UDF: the double ``d`` is split into ``high * 2^63 + low`` (high =
    floor(|d| / 2^63); both parts are exact doubles converting exactly to bigint), rebuilt as a
    decimal and compared with the literal as a decimal. Literals of more than 38 digits, or of
    2^126 and more, cannot be checked this way and count as inexact: the curated table never
    gets a value it cannot vouch for (the contract accepts the rare exact ones; they are
    quarantined here, with this reason)."""
    magnitude = F.abs(text.cast("double"))
    high = F.floor(magnitude / F.lit(_TWO_63))
    low = magnitude - high.cast("double") * F.lit(_TWO_63)
    rebuilt = high.cast("decimal(20,0)") * F.expr(f"{2**63}BD") + low.cast("bigint").cast("decimal(20,0)")
    checkable = text.rlike(_full_match(r"-?[0-9]{1,38}")) & (magnitude < F.lit(_TWO_126))
    exact = F.when(checkable, F.abs(text.cast("decimal(38,0)")) == rebuilt).otherwise(F.lit(False))
    return text.rlike(_full_match(r"-?[0-9]+")) & ~exact


def _parse(lines: DataFrame) -> DataFrame:
    """The lines with everything the rules look at computed once: both parses, the texts of
    the scalar fields and the parsed times. (Each expensive value is its own column, so Spark
    evaluates it once per row instead of once per rule that mentions it.)"""
    parsed = lines.select(
        *LINE_COLUMNS,
        _not_utf8().alias("_not_utf8"),
        _lone_surrogate().alias("_lone_surrogate"),
        F.from_json("raw_line", "map<string,string>", _JSON_OPTIONS).alias("_raw"),
        F.from_json("raw_line", _TYPED_SCHEMA, _JSON_OPTIONS).alias("_typed"),
    )
    return parsed.select(
        "*",
        _rendering("device_id").alias("device_id"),
        _rendering("device_id").rlike(_full_match(DEVICE_ID_PATTERN)).alias("_device_id_ok"),
        _parse_time("event_time").alias("event_time"),
        _parse_time("ingested_at").alias("ingested_at"),
    )


def _quarantine_rules() -> list[tuple[str, Column]]:
    """``(reason, condition)`` in :data:`QUARANTINE_REASONS` order (duplicates are found later),
    over the columns of :func:`_parse`. Each rule may assume the earlier ones passed."""
    raw, typed = F.col("_raw"), F.col("_typed")
    metrics, attributes = typed["metrics"], typed["attributes"]
    device_id_ok, event_hour = F.col("_device_id_ok"), _rendering("event_hour")
    event_time, ingested_at = F.col("event_time"), F.col("ingested_at")
    return [
        (NOT_UTF8, F.col("_not_utf8")),
        (NOT_JSON_OBJECT, raw.isNull() | (F.json_array_length(F.concat(F.lit("["), "raw_line", F.lit("]"))) != 1)),
        (INVALID_UNICODE, F.col("_lone_surrogate")),
        (UNKNOWN_FIELD, F.exists(F.map_keys(raw), lambda key: ~key.isin(*NORMALISED_FIELDS))),
        *((MISSING_FIELD + name, _rendering(name).isNull()) for name in REQUIRED_FIELDS),
        (BAD_TYPE + "schema_version", typed["schema_version"].isNull()),
        (BAD_TYPE + "device_id", device_id_ok & ~_is_json_string("device_id")),
        (BAD_TYPE + "event_hour", event_hour.rlike(_full_match(r"\d{2}")) & ~_is_json_string("event_hour")),
        (BAD_TYPE + "metrics", ~_rendering("metrics").startswith("{")),
        (BAD_TYPE + "attributes", _rendering("attributes").isNotNull() & ~_rendering("attributes").startswith("{")),
        (UNSUPPORTED_SCHEMA_VERSION, ~typed["schema_version"].isin(*SUPPORTED_SCHEMA_VERSIONS)),
        (BAD_DEVICE_ID, ~device_id_ok),
        (BAD_EVENT_TIME, ~_in_contract_range(event_time)),
        (BAD_INGESTED_AT, _rendering("ingested_at").isNotNull() & ~_in_contract_range(ingested_at)),
        (
            PARTITION_MISMATCH,
            (_rendering("event_date") != F.date_format(event_time, "yyyy-MM-dd"))
            | (event_hour != F.date_format(event_time, "HH")),
        ),
        (
            BAD_METRICS,
            metrics.isNull()
            | ~F.size(metrics).between(1, MAX_METRICS)
            | F.exists(F.map_keys(metrics), lambda name: ~name.rlike(_full_match(METRIC_NAME_PATTERN)))
            | F.exists(
                F.map_values(metrics),
                lambda value: value.isNull() | F.isnan(value) | (F.abs(value) == F.lit(float("inf"))),
            ),
        ),
        (
            INEXACT_METRIC,
            # The metrics' own texts, parsed again only for the rare line with a value of 2^53 or
            # more (an integer literal beyond 2^53 is at least 2^53 as a double).
            F.when(
                F.exists(F.map_values(metrics), lambda value: F.abs(value) >= F.lit(_TWO_53)),
                F.exists(
                    F.map_values(F.from_json(_rendering("metrics"), "map<string,string>", _JSON_OPTIONS)),
                    _inexact_integer,
                ),
            ).otherwise(F.lit(False)),
        ),
        (
            BAD_ATTRIBUTES,
            # Size and length first: the regex then only ever sees bounded text.
            _rendering("attributes").isNotNull()
            & (
                (F.size(attributes) > MAX_ATTRIBUTES)
                | F.exists(F.map_keys(attributes), lambda name: ~name.rlike(_full_match(ATTRIBUTE_NAME_PATTERN)))
                | F.exists(F.map_values(attributes), lambda text: F.length(text) > MAX_ATTRIBUTE_VALUE_LENGTH)
                # The canonical text shows what the typed map hides: 5 or null as a value.
                | ~_rendering("attributes").rlike(_FLAT_STRING_OBJECT)
            ),
        ),
    ]


def _first_failure(rules: Sequence[tuple[str, Column]]) -> Column:
    """The reason of the first rule that holds, else null (curatable). A rule that evaluates
    to null counts as failed: a row is curated only if every rule is definitely false."""
    reason = F.lit(None).cast("string")
    for name, condition in reversed(rules):
        reason = F.when(F.coalesce(condition, F.lit(True)), F.lit(name)).otherwise(reason)
    return reason


def validate(lines: DataFrame) -> DataFrame:
    """Parse and check every line; one output row per input row (projections only).

    Columns: ``raw_line``, ``source_file``, ``reason`` (null if the row is curatable, else the
    first failing rule), then the curated columns and ``event_date`` (meaningful only where
    ``reason`` is null)."""
    return _parse(lines).select(
        *LINE_COLUMNS,
        _first_failure(_quarantine_rules()).alias("reason"),
        "device_id",
        "event_time",
        "ingested_at",
        F.col("_typed.schema_version").alias("schema_version"),
        F.col("_typed.metrics").alias("metrics"),
        F.coalesce(F.col("_typed.attributes"), F.expr(_EMPTY_ATTRIBUTES)).alias("attributes"),
        F.to_date("event_time").alias(PARTITION_COLUMN),
    )


# --- De-duplication --------------------------------------------------------------------------
# Both steps take the rows that passed validation (so every key is set; rows without a key
# would all meet in one task) and only ever turn a null reason into "duplicate", never drop
# or add a row.


def mark_duplicates_within_run(rows: DataFrame) -> DataFrame:
    """Quarantine all but one row per (device_id, event_time) as ``duplicate``.

    The kept row is the one ingested first (a null ingested_at last), then the smallest raw
    line and source file, so the choice does not depend on how Spark splits the input."""
    first_delivery = Window.partitionBy(*KEY_COLUMNS).orderBy(
        F.col("ingested_at").asc_nulls_last(), F.col("raw_line"), F.col("source_file")
    )
    redelivered = F.col("reason").isNull() & (F.row_number().over(first_delivery) > 1)
    return rows.withColumn("reason", F.when(redelivered, F.lit(DUPLICATE)).otherwise(F.col("reason")))


def read_curated_keys(spark: SparkSession, curated_path: str, event_dates: Sequence[str]) -> DataFrame:
    """(device_id, event_time) of the rows already curated on ``event_dates``.

    Reads only those dates' folders and only the two key columns (Parquet column pruning), so
    the cost follows the batch, not the table. Dates (or the table) not written yet are skipped:
    the first run reads nothing."""
    schema = "device_id string, event_time timestamp"
    root = curated_path.rstrip("/")
    folders = [f"{root}/{PARTITION_COLUMN}={day}" for day in event_dates]
    existing = [folder for folder in folders if _path_exists(spark, folder)]
    if not existing:
        return spark.createDataFrame([], schema)
    return spark.read.schema(schema).option("basePath", root).parquet(*existing).select(*KEY_COLUMNS)


def snapshot(keys: DataFrame) -> DataFrame:
    """``keys`` read now, once, and held by the executors: a frame that no longer refers to the
    curated folder.

    Why (issue 16): the classification is computed lazily and read three times (counted, then
    written as curated, then as quarantine). Appending to the curated folder makes Spark drop
    every cached plan that reads that folder, so the quarantine write recomputed the
    classification, and the cross-run check then saw the rows the run had just curated: they
    were written to quarantine as duplicates too. A snapshot cannot change: whenever the
    classification is computed (again, after an evicted cache block, too), it compares against
    the keys as they were before this run wrote anything. ``localCheckpoint`` truncates the
    lineage (spilling to disk rather than dropping); if an executor holding a part of it is lost,
    the job fails instead of reading the folder again, and the run is retried whole."""
    return keys.localCheckpoint(eager=True)


def _path_exists(spark: SparkSession, path: str) -> bool:
    """Through Hadoop's FileSystem, so it works for local paths and s3:// alike."""
    jvm_path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(path)
    return jvm_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(jvm_path)


def _data_files(spark: SparkSession, folder: str) -> set[str]:
    """The data files directly in ``folder`` (not ``_SUCCESS`` or hidden files), fully
    qualified; empty if the folder does not exist. Hadoop's FileSystem: local and s3:// alike."""
    jvm_path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(folder)
    fs = jvm_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(jvm_path):
        return set()
    return {
        status.getPath().toString()
        for status in fs.listStatus(jvm_path)
        if status.isFile() and not status.getPath().getName().startswith(("_", "."))
    }


def mark_duplicates_across_runs(rows: DataFrame, curated_keys: DataFrame) -> DataFrame:
    """Quarantine as ``duplicate`` the rows whose key is already in ``curated_keys`` (a reading
    redelivered after an earlier run curated it, or a retried run)."""
    seen = curated_keys.select(*KEY_COLUMNS).distinct().withColumn("_curated_before", F.lit(True))
    joined = rows.join(seen, list(KEY_COLUMNS), "left")
    redelivered = F.col("reason").isNull() & F.col("_curated_before").isNotNull()
    marked = joined.withColumn("reason", F.when(redelivered, F.lit(DUPLICATE)).otherwise(F.col("reason")))
    return marked.select(*rows.columns)


# --- Outputs ---------------------------------------------------------------------------------


def curated_rows(classified: DataFrame) -> DataFrame:
    """The curated table's rows: :data:`CURATED_COLUMNS` then the partition column."""
    return classified.where(F.col("reason").isNull()).select(*(name for name, _ in CURATED_COLUMNS), PARTITION_COLUMN)


def quarantine_rows(classified: DataFrame, run_id: str, quarantined_at: dt.datetime) -> DataFrame:
    """The quarantined rows as :data:`QUARANTINE_COLUMNS`."""
    return classified.where(F.col("reason").isNotNull()).select(
        "raw_line",
        F.when(F.col("reason") == NOT_UTF8, F.base64(F.col("raw_line").cast("binary"))).alias("raw_line_base64"),
        "reason",
        "source_file",
        F.lit(run_id).alias("run_id"),
        F.lit(quarantined_at).cast("timestamp").alias("quarantined_at"),
    )


def write_curated(rows: DataFrame, curated_path: str) -> None:
    """Append Snappy Parquet, one file per event date (up to MAX_RECORDS_PER_FILE rows each).

    Repartitioning by the date sends each date to one task, hence one file, instead of one
    small file per input split and date. Sorting by date, device and time inside the task
    keeps a device's readings together: better compression, and tight min/max statistics for
    predicate pushdown on device_id and event_time. (The date leads the sort because the
    partitioned writer needs its input grouped by date; it then adds no sort of its own.)"""
    (
        rows.repartition(PARTITION_COLUMN)
        .sortWithinPartitions(PARTITION_COLUMN, *KEY_COLUMNS)
        .write.mode("append")
        .partitionBy(PARTITION_COLUMN)
        .option("compression", "snappy")
        .option("maxRecordsPerFile", MAX_RECORDS_PER_FILE)
        .parquet(curated_path)
    )


def write_quarantine(rows: DataFrame, quarantine_path: str, run_id: str) -> None:
    """Gzip JSON lines under ``<quarantine_path>/run_id=<run_id>/``, one file for the run
    (quarantine is small; nulls are written as null so every line has every column)."""
    (
        rows.coalesce(1)
        .write.mode("append")
        .option("compression", "gzip")
        .option("ignoreNullFields", "false")
        .option("timestampFormat", "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
        .json(f"{quarantine_path.rstrip('/')}/run_id={run_id}")
    )


# --- Orchestration ---------------------------------------------------------------------------


class RowCountMismatch(RuntimeError):
    """The rows to be written do not add up to the rows read; nothing was written."""


class WrittenRowsMismatch(RowCountMismatch):
    """The files a run wrote do not hold the rows it read. The run fails, so the job bookmark
    does not advance: the next run reads the same input again, and its cross-run check
    quarantines as ``duplicate`` whatever this run had curated."""


def _output_folders(curated_path: str, quarantine_path: str, run_id: str, event_dates: Sequence[str]) -> dict[str, list[str]]:
    """The folders a run writes to: one per curated event date, and its quarantine folder."""
    root = curated_path.rstrip("/")
    return {
        "curated": [f"{root}/{PARTITION_COLUMN}={day}" for day in event_dates],
        "quarantined": [f"{quarantine_path.rstrip('/')}/run_id={run_id}"],
    }


def list_outputs(spark: SparkSession, folders: dict[str, list[str]]) -> dict[str, set[str]]:
    """The data files now in each output's folders (taken before and after writing: the
    difference is what the run wrote, whatever earlier runs left there)."""
    return {output: set().union(*(_data_files(spark, folder) for folder in paths)) for output, paths in folders.items()}


def count_written(spark: SparkSession, before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, int]:
    """Rows in the files the run added: curated from the Parquet files (a count reads only
    their footers), quarantined as lines of its gzip JSON file (small)."""
    curated = sorted(after["curated"] - before["curated"])
    quarantined = sorted(after["quarantined"] - before["quarantined"])
    return {
        "curated": spark.read.parquet(*curated).count() if curated else 0,
        "quarantined": spark.read.text(quarantined).count() if quarantined else 0,
    }


def check_written(summary: dict[str, Any], written: dict[str, int]) -> None:
    """The accounting identity on the files: rows in this run's curated files + quarantine
    lines == rows_in, and each equals the summary; else :class:`WrittenRowsMismatch`."""
    if written["curated"] + written["quarantined"] != summary["rows_in"] or written != {
        "curated": summary["curated"],
        "quarantined": summary["quarantined"],
    }:
        raise WrittenRowsMismatch(
            f"run {summary['run_id']}: the files written hold {written['curated']} curated + {written['quarantined']} "
            f"quarantined rows, but it read {summary['rows_in']} (summary: {summary['curated']} curated + "
            f"{summary['quarantined']} quarantined); failing the run so that its input is read again"
        )


def profile_batch(validated: DataFrame) -> tuple[int, list[str]]:
    """(rows read, event dates of the curatable rows) in one pass."""
    day = F.when(F.col("reason").isNull(), F.col(PARTITION_COLUMN)).alias("day")
    counts = validated.groupBy(day).count().collect()
    return sum(row["count"] for row in counts), sorted(row["day"].isoformat() for row in counts if row["day"])


def summarise(run_id: str, rows_in: int, classified: DataFrame) -> dict[str, Any]:
    """The run's summary, counted from the rows about to be written (one pass)."""
    day = F.when(F.col("reason").isNull(), F.col(PARTITION_COLUMN)).alias("day")
    counts = classified.groupBy("reason", day).count().collect()
    by_reason: dict[str, int] = {}
    for row in counts:
        if row["reason"] is not None:
            by_reason[row["reason"]] = by_reason.get(row["reason"], 0) + row["count"]
    return {
        "run_id": run_id,
        "rows_in": rows_in,
        "curated": sum(row["count"] for row in counts if row["reason"] is None),
        "quarantined": sum(by_reason.values()),
        "quarantined_by_reason": dict(sorted(by_reason.items())),
        "event_dates": sorted(row["day"].isoformat() for row in counts if row["day"]),
    }


def check_invariant(summary: dict[str, Any]) -> None:
    """rows_in == curated + quarantined, else :class:`RowCountMismatch`."""
    if summary["rows_in"] != summary["curated"] + summary["quarantined"]:
        raise RowCountMismatch(
            f"run {summary['run_id']}: read {summary['rows_in']} rows but would write {summary['curated']} curated + "
            f"{summary['quarantined']} quarantined; nothing was written"
        )


def curate(
    spark: SparkSession,
    lines: DataFrame,
    *,
    curated_path: str,
    quarantine_path: str,
    run_id: str,
    started_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Validate, de-duplicate, check the counts, write, check the files; returns (and logs) the
    summary.

    ``lines`` has :data:`LINE_COLUMNS`. The validated input is persisted once (the count and
    everything after read it from memory or local disk, not from S3), and so is the classified
    result, which is both counted and written. The keys already curated are a :func:`snapshot`
    taken before anything is written, so the classification is the same however often Spark
    computes it: the summary and both writes agree. Writing starts only after the counts add
    up, and the run fails if the files it wrote do not (:func:`check_written`)."""
    if not RUN_ID.fullmatch(run_id):
        raise ValueError(f"run id {run_id!r} must match {RUN_ID.pattern}")
    started_at = started_at or dt.datetime.now(dt.timezone.utc)
    validated = validate(lines).persist(StorageLevel.MEMORY_AND_DISK)
    classified = None
    try:
        rows_in, batch_dates = profile_batch(validated)
        known = snapshot(read_curated_keys(spark, curated_path, batch_dates))
        curatable = validated.where(F.col("reason").isNull())
        deduplicated = mark_duplicates_across_runs(mark_duplicates_within_run(curatable), known)
        classified = deduplicated.unionByName(validated.where(F.col("reason").isNotNull()))
        classified = classified.persist(StorageLevel.MEMORY_AND_DISK)
        summary = summarise(run_id, rows_in, classified)
        validated.unpersist()
        check_invariant(summary)
        folders = _output_folders(curated_path, quarantine_path, run_id, summary["event_dates"])
        before = list_outputs(spark, folders)
        if summary["curated"]:
            write_curated(curated_rows(classified), curated_path)
        if summary["quarantined"]:
            write_quarantine(quarantine_rows(classified, run_id, started_at), quarantine_path, run_id)
        written = count_written(spark, before, list_outputs(spark, folders))
        LOG.info(json.dumps({"run_id": run_id, "rows_in_files_written": written}))
        check_written(summary, written)
    finally:
        validated.unpersist()
        if classified is not None:
            classified.unpersist()
    LOG.info(json.dumps(summary))
    return summary


# --- Entry points ----------------------------------------------------------------------------


def new_run_id(now: dt.datetime | None = None) -> str:
    """``local-20261123T081502Z-1a2b3c4d``: sortable by time, unique across runs."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return f"local-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


#: What ``--help`` says about the Glue mode (its arguments are read by awsglue, not argparse).
_GLUE_HELP = """\
without --local, this is the Glue job (only inside AWS Glue, where awsglue is installed):
  --raw_path S3_PREFIX         raw zone, read recursively through a job bookmark
  --curated_path S3_PREFIX     curated table (Parquet, partitioned by event_date)
  --quarantine_path S3_PREFIX  quarantine (gzip JSON lines under run_id=<JOB_RUN_ID>/)
  --JOB_NAME, --JOB_RUN_ID     set by Glue
"""


def _local_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m glue_scripts.raw_to_curated",
        description="Curate raw telemetry JSON lines on this machine (without --local: the Glue job).",
        epilog=_GLUE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--local", action="store_true", required=True, help="run locally with plain PySpark")
    parser.add_argument("--input", required=True, help="folder of raw files (plain or .gz), read recursively")
    parser.add_argument("--output", required=True, help="writes curated/, quarantine/ and _runs/<run_id>.json here")
    parser.add_argument("--run-id", help="default: local-<UTC time>-<8 hex digits>")
    parser.add_argument("--master", default="local[*]", help="Spark master (default local[*])")
    parser.add_argument("--driver-memory", default="2g", help="Spark driver memory (default 2g)")
    parser.add_argument(
        "--shuffle-partitions", type=int, default=LOCAL_SHUFFLE_PARTITIONS,
        help=f"Spark shuffle partitions (default {LOCAL_SHUFFLE_PARTITIONS})",
    )
    return parser


def run_local(argv: Sequence[str]) -> dict[str, Any]:
    """The local command line; prints the summary as one JSON line and saves it."""
    parser = _local_parser()
    args = parser.parse_args(argv)
    source = Path(args.input)
    if not source.exists():
        parser.error(f"--input {source}: no such file or directory")
    run_id = args.run_id or new_run_id()
    if not RUN_ID.fullmatch(run_id):
        parser.error(f"--run-id {run_id!r} must match {RUN_ID.pattern}")
    output = Path(args.output).resolve()
    spark = create_local_session(
        args.master, driver_memory=args.driver_memory, shuffle_partitions=args.shuffle_partitions
    )
    summary = curate(
        spark,
        read_raw_lines(spark, str(source.resolve())),
        curated_path=str(output / "curated"),
        quarantine_path=str(output / "quarantine"),
        run_id=run_id,
    )
    runs = output / "_runs"
    runs.mkdir(parents=True, exist_ok=True)
    (runs / f"{run_id}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary), flush=True)
    return summary


def glue_main(argv: Sequence[str]) -> dict[str, Any]:
    """The Glue job: ``--raw_path``, ``--curated_path``, ``--quarantine_path`` (plus Glue's own
    ``--JOB_NAME`` and ``--JOB_RUN_ID``); ``argv`` is ``sys.argv``.

    UNVERIFIED outside Glue: awsglue cannot be installed elsewhere, so only the pure functions
    this calls are tested. Job bookmarks (process only files not seen by an earlier successful
    run) work only for DynamicFrame sources with a transformation_ctx, so the raw files are read
    through one, as CSV: a single column, with a separator JSON never contains unescaped, and no
    quoting, i.e. each line as text, exactly like the local text read. The bookmark advances
    only at job.commit(), after both writes, so a failed run is read again in full by the next
    one (whose cross-run check then quarantines what this one had curated already)."""
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    args = getResolvedOptions(list(argv), ["JOB_NAME", "JOB_RUN_ID", "raw_path", "curated_path", "quarantine_path"])
    glue_context = GlueContext(SparkContext.getOrCreate())
    spark = configure_session(glue_context.spark_session)
    job = Job(glue_context)
    job.init(args["JOB_NAME"], args)
    frame = glue_context.create_dynamic_frame.from_options(
        connection_type="s3",
        connection_options={"paths": [args["raw_path"]], "recurse": True, "groupFiles": "inPartition"},
        format="csv",
        format_options={
            "separator": GLUE_LINE_SEPARATOR,
            "quoteChar": -1,
            "withHeader": False,
            "attachFilename": "source_file",
        },
        transformation_ctx="read_raw_telemetry",
    )
    summary = curate(
        spark,
        lines_from_glue_frame(frame.toDF()),
        curated_path=args["curated_path"],
        quarantine_path=args["quarantine_path"],
        run_id=args["JOB_RUN_ID"],
    )
    job.commit()
    return summary


def main(argv: Sequence[str] | None = None) -> None:
    """``--local ...`` runs :func:`run_local`; anything else is Glue calling :func:`glue_main`.

    ``--help``, and Glue arguments where awsglue is not installed, are answered by argparse
    (help, or a usage error with exit status 2) instead of an ImportError's traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    if "--local" in args or "-h" in args or "--help" in args:
        run_local(args)
    elif importlib.util.find_spec("awsglue") is None:
        _local_parser().error(
            "awsglue is not installed: without --local this is the Glue job, which runs only inside AWS Glue; "
            "on this machine use --local --input DIR --output DIR"
        )
    else:
        glue_main([sys.argv[0], *args])


if __name__ == "__main__":
    main()
