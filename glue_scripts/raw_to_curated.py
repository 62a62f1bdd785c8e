r"""Raw telemetry JSON lines (Firehose, GZIP) -> the curated Iceberg table + the quarantine table.

Every raw line gets exactly one outcome: it is curated (MERGEd into the Iceberg table
``telemetry``), quarantined (MERGEd into ``telemetry_quarantine``) with one reason from
:data:`QUARANTINE_REASONS`, or found already committed (replayed: an earlier attempt of this run,
or an earlier run over the same file, wrote it; nothing is written again). Both tables are
defined in glue_scripts/curated_table.py (plain data, shared with the CDK side); the Spark and
Iceberg I/O is in glue_scripts/lakehouse.py. The job counts what it read and what it will write
and refuses to write anything if the two disagree (:class:`RowCountMismatch`); after its commits
it counts the rows carrying its run id in the committed tables and fails the run if they do not
match either (:class:`WrittenRowsMismatch`), so a row can never be lost or doubled silently.
Nothing curated is altered: a value the curated table could not hold exactly (an integer a
double cannot hold, a string that is not valid Unicode, a time finer than a microsecond) is
quarantined with its own reason, as the Firehose transform rejects it.

Layout of this module: pure PySpark transforms (DataFrame in, DataFrame out: validation,
lineage, classification), the orchestration :func:`curate` (the commit sequence), the local
command line (``python -m glue_scripts.raw_to_curated --local --input DIR --output DIR``) and a
thin Glue entry point, :func:`glue_main`, the only code that imports ``awsglue`` (inside the
function: it cannot be installed outside Glue). Besides its two sibling modules nothing here
imports the rest of the repository, because Glue runs this file with only them beside it
(``--extra-py-files``); the contract rules it needs are copied below and
``tests/glue/test_contract_constants.py`` keeps the copies equal to ``telemetry_contract``.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

try:  # in the repository
    from glue_scripts import curated_table as table_defs
    from glue_scripts import lakehouse
except ImportError:  # on Glue, where --extra-py-files puts the modules at the top level
    import curated_table as table_defs  # type: ignore[no-redef]
    import lakehouse  # type: ignore[no-redef]

LOG = logging.getLogger("raw_to_curated")

# --- The curated and quarantine tables -------------------------------------------------------

#: A reading's columns in the curated table, in order, with their Spark SQL types (the table
#: adds the lineage columns; glue_scripts/curated_table.py defines both tables whole).
CURATED_COLUMNS = tuple((c.name, c.spark_type) for c in table_defs.CURATED.columns[:6])
#: The lineage columns of the curated table.
LINEAGE_COLUMNS = tuple((c.name, c.spark_type) for c in table_defs.CURATED.columns[6:])
#: The UTC date of ``event_time``, a column of the validated rows: the day partition a row
#: falls in (the Iceberg table has no such column; it partitions by day(event_time)).
PARTITION_COLUMN = "event_date"
PARTITION_TYPE = "date"
#: Columns of a quarantined row, in order, with their Spark SQL types.
QUARANTINE_COLUMNS = tuple((c.name, c.spark_type) for c in table_defs.QUARANTINE.columns)
#: A reading's identity: the same key arriving twice is a redelivery (at-least-once delivery).
KEY_COLUMNS = ("device_id", "event_time")

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
    master: str = "local[*]",
    *,
    driver_memory: str = "2g",
    shuffle_partitions: int = LOCAL_SHUFFLE_PARTITIONS,
    iceberg_runtime: str | None = None,
) -> SparkSession:
    """A local session with Iceberg (UI and progress bar off, :data:`SESSION_CONF` applied).

    ``iceberg_runtime``: the Iceberg Spark runtime jar; by default the one ``make iceberg``
    fetched (tools/iceberg; a missing jar is an error naming that command). ``getOrCreate``: a
    caller that already has a session (a test) gets that one, reconfigured. Few shuffle
    partitions: Spark's default of 200 would make hundreds of tiny tasks per step on one
    machine, and adaptive execution does not coalesce the persisted, shuffled rows."""
    if iceberg_runtime is None:
        from tools.iceberg.install import ensure_iceberg_runtime  # local only: Glue brings its own

        iceberg_runtime = str(ensure_iceberg_runtime())
    builder = (
        SparkSession.builder.master(master)
        .appName("raw_to_curated")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", driver_memory)
    )
    session = lakehouse.local_session_builder(builder, iceberg_runtime).getOrCreate()
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


# --- Lineage ---------------------------------------------------------------------------------


def with_record_ids(rows: DataFrame) -> DataFrame:
    """``rows`` (with :data:`LINE_COLUMNS`) plus ``record_id``: one raw line occurrence.

    ``record_id`` = SHA-256 (hex) of the raw object's path, a NUL byte and the line's exact
    bytes, then ``:n`` for the n-th copy of that very line in that object. It depends only on
    what was read, never on how Spark split or ordered the input, so a retried run gives every
    line the id its first attempt gave it; that is what lets the run recognise its own earlier
    writes (see :func:`classify`). Identical lines of one object are interchangeable, so which
    copy gets which number does not matter, only how many there are. The numbering needs a
    window over the repeated lines only: they are found with an aggregation of the digests
    (no line text is shuffled) and are almost always none."""
    digest = F.sha2(F.concat(F.col("source_file").cast("binary"), F.lit(bytearray(b"\x00")), F.col("raw_line").cast("binary")), 256)
    digested = rows.withColumn("_digest", digest)
    repeated = digested.groupBy("_digest").count().where(F.col("count") > 1).select("_digest", F.lit(True).alias("_repeated"))
    marked = digested.join(F.broadcast(repeated), "_digest", "left")
    copy_number = F.row_number().over(Window.partitionBy("_digest").orderBy("_digest"))
    numbered = marked.where(F.col("_repeated").isNotNull()).withColumn("_copy", copy_number)
    single = marked.where(F.col("_repeated").isNull()).withColumn("_copy", F.lit(1))
    return (
        single.unionByName(numbered)
        .withColumn("record_id", F.concat("_digest", F.lit(":"), F.col("_copy").cast("string")))
        .drop("_digest", "_repeated", "_copy")
    )


# --- Classification ------------------------------------------------------------------------------
# Every row gets one outcome: CURATED (new in the curated table), QUARANTINED (new in the
# quarantine, with its reason) or REPLAYED (its record_id is already committed, by an earlier
# attempt of this run or an earlier run over the same file: nothing to write). Only a null reason
# is ever turned into "duplicate"; no row is dropped or added.

CURATED = "curated"
QUARANTINED = "quarantined"
REPLAYED = "replayed"
OUTCOMES = (CURATED, QUARANTINED, REPLAYED)


def mark_duplicates_within_run(rows: DataFrame) -> DataFrame:
    """Quarantine all but one row per (device_id, event_time) as ``duplicate``.

    The kept row is the one ingested first (a null ingested_at last), then the smallest raw
    line, source file and record id, so the choice does not depend on how Spark splits the input."""
    order = [F.col("ingested_at").asc_nulls_last(), F.col("raw_line"), F.col("source_file")]
    if "record_id" in rows.columns:
        order.append(F.col("record_id"))
    first_delivery = Window.partitionBy(*KEY_COLUMNS).orderBy(*order)
    redelivered = F.col("reason").isNull() & (F.row_number().over(first_delivery) > 1)
    return rows.withColumn("reason", F.when(redelivered, F.lit(DUPLICATE)).otherwise(F.col("reason")))


def classify(validated: DataFrame, curated_before: DataFrame, quarantined_before: DataFrame) -> DataFrame:
    """``validated`` (with ``record_id``) plus ``outcome``; ``reason`` set on every row not curated.

    ``curated_before``: (device_id, event_time, record_id) of the curated rows on the batch's
    days, as committed before this run wrote; ``quarantined_before``: the record ids already in
    the quarantine on those days (and its null partition). The rules, in order:

    1. a record id already in the quarantine: REPLAYED (committed by an earlier attempt);
    2. an invalid row: QUARANTINED with its validation reason;
    3. a key already curated by this very record id: REPLAYED (an earlier attempt curated it);
       a key already curated by another record: QUARANTINED as ``duplicate`` (a redelivery);
    4. a key new to the table: the first delivery in the batch is CURATED, the others are
       ``duplicate``.

    Rule 3 is what makes a retry after a partial write safe: the curated MERGE committed, the
    run failed before the quarantine's, and the retry reads the same files; its own curated
    rows are recognised by their record ids instead of being quarantined as redeliveries."""
    quarantined = quarantined_before.select("record_id", F.lit(True).alias("_in_quarantine")).distinct()
    rows = validated.join(quarantined, "record_id", "left")
    replayed = rows.where(F.col("_in_quarantine").isNotNull())
    fresh = rows.where(F.col("_in_quarantine").isNull())
    invalid = fresh.where(F.col("reason").isNotNull())
    valid = fresh.where(F.col("reason").isNull())

    # _curated marks a match: a row migrated from the Parquet table has no record id.
    known = curated_before.select(*KEY_COLUMNS, F.col("record_id").alias("_curated_as"), F.lit(True).alias("_curated"))
    matched = valid.join(known, list(KEY_COLUMNS), "left")
    new_keys = mark_duplicates_within_run(matched.where(F.col("_curated").isNull()))
    old_keys = matched.where(F.col("_curated").isNotNull())
    same = F.coalesce(F.col("_curated_as") == F.col("record_id"), F.lit(False))
    columns = [*validated.columns]
    return (
        replayed.select(*columns, F.lit(REPLAYED).alias("outcome"))
        .unionByName(invalid.select(*columns, F.lit(QUARANTINED).alias("outcome")))
        .unionByName(old_keys.select(
            *[c for c in columns if c != "reason"],
            F.when(same, F.col("reason")).otherwise(F.lit(DUPLICATE)).alias("reason"),
            F.when(same, F.lit(REPLAYED)).otherwise(F.lit(QUARANTINED)).alias("outcome"),
        ))
        .unionByName(new_keys.select(
            *columns, F.when(F.col("reason").isNull(), F.lit(CURATED)).otherwise(F.lit(QUARANTINED)).alias("outcome"),
        ))
    )


# --- Outputs ---------------------------------------------------------------------------------


def _table_columns(rows: DataFrame, definition: table_defs.TableDefinition, values: dict[str, Column]) -> list[Column]:
    """Each column of ``definition``: from ``values``, else the row's column of that name, else a
    typed null: a column the definition gained before the job fills it is written as null
    (which is what old files read as, too)."""
    return [
        (values[c.name] if c.name in values else F.col(c.name) if c.name in rows.columns
         else F.lit(None).cast(c.spark_type)).alias(c.name)
        for c in definition.columns
    ]


def curated_rows(classified: DataFrame, run_id: str) -> DataFrame:
    """The new curated rows, with the table's columns (curated_table.CURATED)."""
    new = classified.where(F.col("outcome") == CURATED)
    return new.select(*_table_columns(new, table_defs.CURATED, {"run_id": F.lit(run_id)}))


def quarantine_rows(classified: DataFrame, run_id: str, quarantined_at: dt.datetime) -> DataFrame:
    """The new quarantine rows, with the table's columns (curated_table.QUARANTINE)."""
    values = {
        "raw_line_base64": F.when(F.col("reason") == NOT_UTF8, F.base64(F.col("raw_line").cast("binary"))),
        "run_id": F.lit(run_id),
        "quarantined_at": F.lit(quarantined_at).cast("timestamp"),
    }
    new = classified.where(F.col("outcome") == QUARANTINED)
    return new.select(*_table_columns(new, table_defs.QUARANTINE, values))


# --- Orchestration ---------------------------------------------------------------------------


class RowCountMismatch(RuntimeError):
    """The rows to be written do not add up to the rows read; nothing was written."""


class WrittenRowsMismatch(RowCountMismatch):
    """The committed tables do not hold what the run says it wrote. The run fails, so the job
    bookmark does not advance: the next attempt reads the same input again and, by the record
    ids, writes only what is missing."""


@dataclass(frozen=True)
class Tables:
    """Where a run writes: the curated table and the quarantine, in one catalog and database."""

    catalog: str
    database: str
    curated: str = table_defs.TABLE_NAME
    quarantine: str = table_defs.QUARANTINE_TABLE_NAME

    @property
    def curated_ref(self) -> lakehouse.TableRef:
        return lakehouse.TableRef(self.catalog, self.database, self.curated)

    @property
    def quarantine_ref(self) -> lakehouse.TableRef:
        return lakehouse.TableRef(self.catalog, self.database, self.quarantine)


def ensure_tables(spark: SparkSession, tables: Tables, *, create: bool) -> list[str]:
    """Both tables as curated_table defines them (created locally; evolved in place where the
    definition adds a nullable column); the DDL run."""
    return [
        *lakehouse.ensure_table(spark, tables.curated_ref, table_defs.CURATED, create=create),
        *lakehouse.ensure_table(spark, tables.quarantine_ref, table_defs.QUARANTINE, create=create),
    ]


def profile_batch(validated: DataFrame) -> tuple[int, list[dt.date], list[dt.date]]:
    """(rows read, days of the curatable rows, days of every row with a time) in one pass."""
    counts = validated.groupBy(F.col("reason").isNull().alias("valid"), F.to_date("event_time").alias("day")).count().collect()
    valid_days = sorted({row["day"] for row in counts if row["valid"] and row["day"] is not None})
    all_days = sorted({row["day"] for row in counts if row["day"] is not None})
    return sum(row["count"] for row in counts), valid_days, all_days


def summarise(run_id: str, rows_in: int, classified: DataFrame) -> dict[str, Any]:
    """The run's summary, counted from the classified rows (one pass)."""
    day = F.when(F.col("outcome") == CURATED, F.to_date("event_time")).alias("day")
    counts = classified.groupBy("outcome", "reason", day).count().collect()
    total = {outcome: sum(r["count"] for r in counts if r["outcome"] == outcome) for outcome in OUTCOMES}
    by_reason: dict[str, int] = {}
    for row in counts:
        if row["outcome"] == QUARANTINED:
            by_reason[row["reason"]] = by_reason.get(row["reason"], 0) + row["count"]
    return {
        "run_id": run_id,
        "rows_in": rows_in,
        "curated": total[CURATED],
        "quarantined": total[QUARANTINED],
        "replayed": total[REPLAYED],
        "quarantined_by_reason": dict(sorted(by_reason.items())),
        "event_dates": sorted({row["day"].isoformat() for row in counts if row["day"]}),
    }


def check_invariant(summary: dict[str, Any]) -> None:
    """rows_in == curated + quarantined + replayed, else :class:`RowCountMismatch`."""
    if summary["rows_in"] != summary["curated"] + summary["quarantined"] + summary["replayed"]:
        raise RowCountMismatch(
            f"run {summary['run_id']}: read {summary['rows_in']} rows but would write {summary['curated']} curated + "
            f"{summary['quarantined']} quarantined (+ {summary['replayed']} already committed); nothing was written"
        )


def check_committed(summary: dict[str, Any], committed: dict[str, int]) -> None:
    """The accounting identity on the committed tables: the rows in the data files this run's
    commits added equal the summary's curated and quarantined; else :class:`WrittenRowsMismatch`."""
    if committed != {"curated": summary["curated"], "quarantined": summary["quarantined"]}:
        raise WrittenRowsMismatch(
            f"run {summary['run_id']}: its commits added {committed['curated']} curated + {committed['quarantined']} "
            f"quarantined rows, but it read {summary['rows_in']} (summary: {summary['curated']} curated + "
            f"{summary['quarantined']} quarantined + {summary['replayed']} already committed); failing the run so that its "
            "input is read again"
        )


def curate(
    spark: SparkSession,
    lines: DataFrame,
    *,
    tables: Tables,
    run_id: str,
    started_at: dt.datetime | None = None,
    create_tables: bool = True,
    after_commit: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Validate, classify, check the counts, MERGE into the curated table, then into the
    quarantine, then check the committed data; returns (and logs) the summary.

    The commit sequence (glue_scripts/README.md, "Commit sequence") is: (1) the curated MERGE,
    (2) the quarantine MERGE, (3) on Glue, ``job.commit()`` (the bookmark), after this returns.
    A failure anywhere leaves the bookmark where it was; the retry reads the same files, and
    by their record ids writes exactly what is missing. ``after_commit(table)`` is called after
    each commit (``"curated"``, ``"quarantine"``); tests inject failures with it.

    ``lines`` has :data:`LINE_COLUMNS`. The validated input is persisted once; the classification
    reads both tables at the snapshot current when the run started, only on the batch's days, so
    every computation of it gives the same answer, before and after the writes."""
    if not RUN_ID.fullmatch(run_id):
        raise ValueError(f"run id {run_id!r} must match {RUN_ID.pattern}")
    started_at = started_at or dt.datetime.now(dt.timezone.utc)
    ensure_tables(spark, tables, create=create_tables)
    validated = validate(lines).persist(StorageLevel.MEMORY_AND_DISK)
    classified = None
    try:
        rows_in, valid_days, all_days = profile_batch(validated)
        curated_at = lakehouse.current_snapshot(spark, tables.curated_ref)
        quarantine_at = lakehouse.current_snapshot(spark, tables.quarantine_ref)
        curated_days = lakehouse.day_condition("event_time", valid_days)
        quarantine_days = lakehouse.day_condition("event_time", all_days, or_null=True)
        curated_before = lakehouse.read_at(
            spark, tables.curated_ref, curated_at, ["device_id", "event_time", "record_id"], curated_days,
            "device_id string, event_time timestamp, record_id string",
        )
        quarantined_before = lakehouse.read_at(
            spark, tables.quarantine_ref, quarantine_at, ["record_id"], quarantine_days, "record_id string"
        )
        classified = classify(with_record_ids(validated), curated_before, quarantined_before)
        classified = classified.persist(StorageLevel.MEMORY_AND_DISK)
        summary = summarise(run_id, rows_in, classified)
        check_invariant(summary)
        snapshots = {"curated": curated_at, "quarantine": quarantine_at}
        if summary["curated"]:
            committed = lakehouse.merge_new_rows(
                spark, tables.curated_ref, curated_rows(classified, run_id), KEY_COLUMNS,
                lakehouse.day_condition("t.event_time", valid_days),
            )
            snapshots["curated"] = committed or snapshots["curated"]
        if after_commit is not None:
            after_commit("curated")
        if summary["quarantined"]:
            committed = lakehouse.merge_new_rows(
                spark, tables.quarantine_ref, quarantine_rows(classified, run_id, started_at), ("record_id",),
                lakehouse.day_condition("t.event_time", all_days, or_null=True),
            )
            snapshots["quarantine"] = committed or snapshots["quarantine"]
        if after_commit is not None:
            after_commit("quarantine")
        committed_rows = {
            "curated": lakehouse.count_added(spark, tables.curated_ref, curated_at, snapshots["curated"]),
            "quarantined": lakehouse.count_added(spark, tables.quarantine_ref, quarantine_at, snapshots["quarantine"]),
        }
        LOG.info(json.dumps({"run_id": run_id, "rows_committed": committed_rows, "snapshots": snapshots}))
        check_committed(summary, committed_rows)
        summary["snapshots"] = snapshots
    finally:
        # The dependent first: uncaching validated while classified is cached would make Spark
        # re-plan classified's cache entry (seconds per run, for nothing).
        if classified is not None:
            classified.unpersist()
        validated.unpersist()
    LOG.info(json.dumps(summary))
    return summary


# --- Entry points ----------------------------------------------------------------------------


def new_run_id(now: dt.datetime | None = None) -> str:
    """``local-20261123T081502Z-1a2b3c4d``: sortable by time, unique across runs."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return f"local-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


#: The database a local run writes to when none is given.
LOCAL_DATABASE = "curated"
#: Job arguments of the Glue mode, besides Glue's own JOB_NAME and JOB_RUN_ID.
GLUE_ARGUMENTS = ("raw_path", "iceberg_catalog", "curated_database", "curated_table", "quarantine_table")

#: What ``--help`` says about the Glue mode (its arguments are read by awsglue, not argparse).
_GLUE_HELP = """\
without --local, this is the Glue job (only inside AWS Glue 5.1, where awsglue is installed):
  --raw_path S3_PREFIX          raw zone, read recursively through a job bookmark
  --iceberg_catalog NAME        the Spark catalog of the Glue Data Catalog (glue_catalog), configured by --conf
  --curated_database NAME       Glue database of both tables
  --curated_table NAME          the curated Iceberg table (telemetry)
  --quarantine_table NAME       the quarantine Iceberg table (telemetry_quarantine)
  --JOB_NAME, --JOB_RUN_ID      set by Glue
  plus --datalake-formats iceberg and --conf (see glue_scripts/README.md)
"""


def _local_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m glue_scripts.raw_to_curated",
        description="Curate raw telemetry JSON lines on this machine (without --local: the Glue job).",
        epilog=_GLUE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--local", action="store_true", required=True, help="run locally with plain PySpark and Iceberg")
    parser.add_argument("--input", required=True, help="folder of raw files (plain or .gz), read recursively")
    parser.add_argument("--output", required=True, help="writes warehouse/ (the Iceberg tables) and _runs/<run_id>.json here")
    parser.add_argument("--warehouse", help="the Iceberg warehouse folder (default OUTPUT/warehouse)")
    parser.add_argument("--database", default=LOCAL_DATABASE, help=f"database of both tables (default {LOCAL_DATABASE})")
    parser.add_argument("--run-id", help="default: local-<UTC time>-<8 hex digits>")
    parser.add_argument("--master", default="local[*]", help="Spark master (default local[*])")
    parser.add_argument("--driver-memory", default="2g", help="Spark driver memory (default 2g)")
    parser.add_argument(
        "--shuffle-partitions", type=int, default=LOCAL_SHUFFLE_PARTITIONS,
        help=f"Spark shuffle partitions (default {LOCAL_SHUFFLE_PARTITIONS})",
    )
    return parser


def local_tables(spark: SparkSession, warehouse: Path, database: str = LOCAL_DATABASE) -> Tables:
    """The tables of a local warehouse folder (a Hadoop catalog registered in ``spark``). The
    warehouse is named as a ``file://`` URI so that the tables' metadata carries locations with a
    scheme, which other readers (Trino, pyiceberg) resolve."""
    return Tables(lakehouse.local_catalog(spark, warehouse.resolve().as_uri()), database)


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
    tables = local_tables(spark, Path(args.warehouse) if args.warehouse else output / "warehouse", args.database)
    summary = curate(spark, read_raw_lines(spark, str(source.resolve())), tables=tables, run_id=run_id)
    runs = output / "_runs"
    runs.mkdir(parents=True, exist_ok=True)
    (runs / f"{run_id}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary), flush=True)
    return summary


def glue_main(argv: Sequence[str]) -> dict[str, Any]:
    """The Glue job: :data:`GLUE_ARGUMENTS` plus Glue's own ``--JOB_NAME`` and ``--JOB_RUN_ID``;
    ``argv`` is ``sys.argv``. The Iceberg catalog itself comes from the ``--conf`` job argument
    (Spark reads it at start-up; curated_table.glue_conf_argument builds it).

    UNVERIFIED outside Glue: awsglue cannot be installed elsewhere, so only the pure functions
    this calls are tested. Job bookmarks (process only files not seen by an earlier successful
    run) work only for DynamicFrame sources with a transformation_ctx, so the raw files are read
    through one, as CSV: a single column, with a separator JSON never contains unescaped, and no
    quoting, i.e. each line as text, exactly like the local text read. The bookmark advances
    only at job.commit(), after both MERGEs and their check, so a failed run is read again in
    full by the next attempt, which writes only what the failed one had not committed. The
    tables must exist (CloudFormation declares them); the job adds a column the definition
    gained (glue:UpdateTable), nothing else."""
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    args = getResolvedOptions(list(argv), ["JOB_NAME", "JOB_RUN_ID", *GLUE_ARGUMENTS])
    glue_context = GlueContext(SparkContext.getOrCreate())
    spark = configure_session(glue_context.spark_session)
    lakehouse.check_catalog(spark, args["iceberg_catalog"])
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
    tables = Tables(args["iceberg_catalog"], args["curated_database"], args["curated_table"], args["quarantine_table"])
    summary = curate(spark, lines_from_glue_frame(frame.toDF()), tables=tables, run_id=args["JOB_RUN_ID"], create_tables=False)
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
