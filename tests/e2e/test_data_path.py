"""The data path whole, against a ground truth computed without the code under test.

Simulated fleet -> the real Firehose transform inside an emulated delivery stream (settings from
the synthesised dev template) -> the Glue job in incremental runs on the Iceberg tables (one run
failing after its curated commit and retried) -> the saved queries on Trino -> the job repeated
on all raw files (tests/e2e/conftest.py runs it once). The truth comes from the fleet's own
labels (tools/pipeline/truth.py): which readings are distinct and valid, which records repeat
which, which ones the simulator broke. Everything below is read back from what the stages wrote:
the committed curated and quarantine tables (pyiceberg; the curated data files with pyarrow),
the raw objects and Firehose's error objects.

Contract decisions asserted (issue 16): times kept to the microsecond, finer ones rejected;
integers a double cannot hold (odd ones beyond 2^53) rejected, counters up to 2^53 - 1 kept
exactly; lone surrogates rejected; nothing altered silently.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict

import pytest

from tools.pipeline import inventory, report, truth
from tools.pipeline.fleet import AWKWARD, INVALID_BUILDERS, SUB_MILLISECOND
from tools.trino.saved_queries import saved_query_names

pytestmark = pytest.mark.trino

UTC = dt.timezone.utc
VALID_CASES = ("plain", *AWKWARD, SUB_MILLISECOND)
CURATED_TYPES = {
    "device_id": "string",
    "event_time": "timestamp[us, tz=UTC]",
    "ingested_at": "timestamp[us, tz=UTC]",
    "schema_version": "int32",
    "metrics": "map<string, double ('metrics')>",
    "attributes": "map<string, string ('attributes')>",
}


@pytest.fixture(scope="module")
def curated(pipeline):
    """Curated rows by key, each key with every row that has it."""
    rows = defaultdict(list)
    for row in inventory.curated_rows(pipeline.output.curated):
        rows[(row["device_id"], row["event_time"])].append(row)
    return rows


@pytest.fixture(scope="module")
def quarantine(pipeline):
    return inventory.quarantine_rows(pipeline.output.quarantine)


def _differences(row: dict, want) -> list[str]:
    actual = {
        "device_id": row["device_id"], "event_time": row["event_time"], "ingested_at": row["ingested_at"],
        "schema_version": row["schema_version"], "metrics": row["metrics"], "attributes": row["attributes"],
        "event_date": row["event_date"],
    }
    expected = {
        "device_id": want.device_id, "event_time": want.event_time, "ingested_at": want.ingested_at, "schema_version": 1,
        "metrics": want.metrics, "attributes": want.attributes, "event_date": want.event_date.isoformat(),
    }
    problems = [f"{name}: {actual[name]!r} != {expected[name]!r}" for name in expected if actual[name] != expected[name]]
    # Exact float equality is meant: the decimal a device wrote and the double it became must
    # survive unchanged (no rounding through another type on the way).
    problems += [f"metrics.{k}: {type(v).__name__}" for k, v in row["metrics"].items() if type(v) is not float]
    problems += [f"type of {name}: {row['_types'][name]}" for name, type_ in CURATED_TYPES.items() if row["_types"][name] != type_]
    return problems


@pytest.mark.parametrize("case", VALID_CASES)
def test_every_valid_reading_is_curated_exactly_once_with_its_values_intact(pipeline, curated, case):
    readings = [r for r in pipeline.fleet.expected if r.case == case]
    assert readings, f"the fleet has no {case} reading: the check would be empty"
    problems = []
    for reading in readings:
        rows = curated.get(reading.key, [])
        if len(rows) != 1:
            problems.append(f"{reading.key}: curated {len(rows)} times")
        else:
            problems += [f"{reading.key}: {p}" for p in _differences(rows[0], reading)]
    assert not problems, f"{len(problems)} problems in {len(readings)} {case} readings, e.g.:\n" + "\n".join(problems[:8])


def test_nothing_is_curated_that_the_truth_does_not_have(pipeline, curated):
    expected = truth.curated(pipeline.fleet)
    extra = [key for key in curated if key not in expected]
    assert not extra, f"{len(extra)} curated keys no valid reading has, e.g. {extra[:5]}"
    assert len(curated) == len(expected)


@pytest.mark.parametrize("defect", sorted(INVALID_BUILDERS))
def test_every_invalid_record_fails_with_a_reason_and_its_original_bytes(pipeline, quarantine, defect):
    """Failed by the transform (in Firehose's error prefix, original bytes in ``rawData``, the
    reason in the function's log) or quarantined by the job with a reason (the raw line kept)."""
    records = [r for r in truth.invalid(pipeline.fleet) if r.case == defect]
    assert records, f"the fleet has no {defect} record"
    failed = Counter(document["raw_bytes"] for document in pipeline.error_records)
    reasons = pipeline.firehose.reason_by_data
    quarantined = Counter(row["raw_line"] for row in quarantine if row["reason"] != "duplicate")
    lost = []
    for record in records:
        if failed[record.data]:
            failed[record.data] -= 1
            encoded = next(d for d in pipeline.error_records if d["raw_bytes"] == record.data)
            if not (encoded["errorCode"] and encoded["errorMessage"] and reasons.get(encoded["rawData"])):
                lost.append(f"{record.data[:60]!r}: failed without a reason ({encoded['errorCode']!r}, log: {reasons.get(encoded['rawData'])!r})")
        elif not _quarantined_with_reason(record.data, quarantined):
            lost.append(f"{record.data[:80]!r}: neither failed nor quarantined with a reason")
    assert not lost, f"{len(lost)} of {len(records)} {defect} records:\n" + "\n".join(lost[:5])


def _quarantined_with_reason(data: bytes, quarantined: Counter) -> bool:
    """The job kept a line that is this record after normalisation (same device and metrics)."""
    try:
        sent = json.loads(data)
    except ValueError:
        return False
    for line in quarantined:
        try:
            kept = json.loads(line)
        except ValueError:
            continue
        if isinstance(kept, dict) and kept.get("device_id") == sent.get("device_id") and kept.get("metrics") == sent.get("metrics"):
            return True
    return False


def test_failed_records_are_in_firehose_processing_failed_format(pipeline):
    documents = pipeline.error_records
    assert documents, "no record failed: the fleet's defects did not reach the error prefix"
    fields = {"attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage", "attemptEndingTimestamp", "rawData", "lambdaArn"}
    assert all(fields <= d.keys() for d in documents)
    static = pipeline.config.error_prefix.split("!{", 1)[0]  # errors/telemetry/ in the dev template
    assert {d["object_key"][len(static):].split("/", 1)[0] for d in documents} == {"processing-failed"}


def test_every_redelivery_is_quarantined_as_a_duplicate_with_its_line(pipeline, quarantine):
    duplicates = [row for row in quarantine if row["reason"] == "duplicate"]
    assert len(duplicates) == len(truth.redeliveries(pipeline.fleet)) > 0
    raw_lines = Counter(line.decode() for path in pipeline.raw_files for line in inventory.read_lines(path))
    assert all(raw_lines[row["raw_line"]] for row in quarantine), "a quarantined line is not a raw line as read"
    assert all(row["reason"] and row["source_file"] and row["run_id"] for row in quarantine)


def test_each_run_commits_exactly_what_its_summary_counts(pipeline):
    """Counted on the files and the committed tables: the lines a run read, the curated and
    quarantine rows carrying its run id; a retry also replays what its failed attempt committed."""
    assert len(pipeline.runs) >= 2 and all(run.files for run in pipeline.runs)
    wrong = [
        f"{run.run_id}: read {run.lines_read} lines, summary {run.summary}, committed {run.curated_written} curated "
        f"+ {run.quarantine_written} quarantined"
        for run in pipeline.runs
        if not run.lines_read == run.summary["rows_in"] == run.curated_written + run.quarantine_written + run.summary["replayed"]
        or run.summary["curated"] != run.curated_written or run.summary["quarantined"] != run.quarantine_written
    ]
    assert not wrong, "\n".join(wrong)


def test_every_raw_line_is_committed_exactly_once(pipeline):
    """Each raw line's record id in exactly one table, once; per raw object, as many rows as lines."""
    lineage = inventory.lineage(pipeline.output.curated) + inventory.lineage(pipeline.output.quarantine)
    records = Counter(record for _, record in lineage)
    assert len(records) == len(lineage) == inventory.count_lines(pipeline.raw_files)
    per_file = Counter(source.split("/telemetry/", 1)[1] for source, _ in lineage)
    expected = Counter({str(path).split("/telemetry/", 1)[1]: len(inventory.read_lines(path)) for path in pipeline.raw_files})
    assert per_file == expected


def test_duplicates_across_runs_and_late_arrivals_were_exercised(pipeline, curated, quarantine):
    """The fleet's redeliveries reach later runs, and late readings land in days an earlier run wrote."""
    run_of = {key: rows[0]["run_id"] for key, rows in curated.items()}
    across = [row for row in quarantine if row["reason"] == "duplicate" and row["event_time"] is not None
              and run_of.get((json.loads(row["raw_line"])["device_id"], row["event_time"])) not in (None, row["run_id"])]
    assert across, "no redelivery was quarantined by a later run than the one that curated its reading"
    runs_per_day = defaultdict(set)
    for rows in curated.values():
        runs_per_day[rows[0]["event_date"]].add(rows[0]["run_id"])
    assert any(len(runs) > 1 for runs in runs_per_day.values()), "no day was written by two runs (no late arrival)"


def test_a_retried_failed_run_changes_nothing_it_had_committed(pipeline):
    """The attempt committed its curated rows and failed before the quarantine and the bookmark;
    the retry read the same files, replayed exactly those rows (its own, by record id, not
    redeliveries), quarantined what was missing, and left every curated data file as it was."""
    attempt = pipeline.failed_attempt
    assert attempt is not None and attempt.failed and attempt.curated_written > 0
    assert attempt.quarantine_written == 0
    retry = next(run for run in pipeline.runs if run.run_id == f"{attempt.run_id}-retry")
    assert retry.files == attempt.files
    assert retry.summary["replayed"] == attempt.curated_written
    assert retry.summary["curated"] == retry.curated_written == 0
    assert retry.lines_read == attempt.curated_written + retry.quarantine_written
    assert pipeline.after_retry["curated"] == pipeline.after_failed_attempt["curated"]  # same snapshot, same files, same bytes


def test_accounting_identities_hold_on_the_files(pipeline):
    broken = [f"{i.name}: {i.left} != {i.right}" for i in report.identities(pipeline) if not i.holds]
    assert not broken, "\n".join(broken)


def test_a_repeated_run_on_the_same_input_changes_nothing(pipeline):
    """'Changes nothing': no commit to either table (the same snapshots; no data file added,
    removed or altered, byte for byte), and every line the repeat reads is found committed."""
    repeat = pipeline.repeat
    assert repeat is not None and repeat.lines_read > 0
    assert pipeline.after_repeat == pipeline.before_repeat
    assert (repeat.summary["curated"], repeat.summary["quarantined"], repeat.summary["replayed"]) == (0, 0, repeat.lines_read)
    assert repeat.curated_written == repeat.quarantine_written == 0


@pytest.mark.parametrize("name", saved_query_names())
def test_saved_query_answers_equal_the_ground_truth(pipeline, name):
    answer = next(a for a in pipeline.answers if a.name == name)
    assert answer.rows, f"{name}{tuple(answer.parameters)} answered nothing: the comparison would be empty"
    assert not answer.problems, f"{name}{tuple(answer.parameters)}:\n" + "\n".join(answer.problems)
