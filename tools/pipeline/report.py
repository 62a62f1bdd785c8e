"""The pipeline's report: counts at every stage, the accounting identities (on the files and the
committed Iceberg tables), the timings and the saved queries' answers, as JSON and Markdown."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse
from typing import Any

from tools.pipeline import inventory, truth


@dataclass(frozen=True)
class Identity:
    name: str
    left: int
    right: int

    @property
    def holds(self) -> bool:
        return self.left == self.right


def identities(result: Any) -> list[Identity]:
    """Each one counted from the files (lines of the raw objects, Firehose's error documents) or
    from the committed Iceberg tables (read with pyiceberg), except where it names the job's
    summary or the truth."""
    fleet, out = result.fleet, result.output
    raw_lines = inventory.count_lines(result.raw_files)
    errors = len(result.error_records)
    curated_rows = inventory.table_rows(out.curated)
    quarantined = inventory.table_rows(out.quarantine)
    lineage = inventory.lineage(out.curated) + inventory.lineage(out.quarantine)
    lines_per_file = {path: len(inventory.read_lines(path)) for path in result.raw_files}
    rows_per_file = Counter(Path(unquote(urlparse(source).path)) for source, _ in lineage)
    attempt = result.failed_attempt
    checks = [
        Identity("Kinesis records = raw lines + Firehose error records + dropped",
                 len(fleet.records), raw_lines + errors + result.firehose.dropped),
        Identity("raw lines = lines read by the scheduled runs (each file once)",
                 raw_lines, sum(run.lines_read for run in result.runs)),
        Identity("raw lines = curated rows + quarantine rows (committed tables)", raw_lines, curated_rows + quarantined),
        Identity("distinct record ids in both tables = raw lines (each line exactly once)",
                 len({record for _, record in lineage}), raw_lines),
        Identity("raw files whose lines are all in the tables, each once = raw files",
                 sum(rows_per_file[path] == lines for path, lines in lines_per_file.items()), len(lines_per_file)),
    ]
    for run in result.runs:
        s = run.summary
        checks += [
            Identity(f"{run.run_id}: lines in its files = its summary's rows_in", run.lines_read, s.get("rows_in", 0)),
            Identity(f"{run.run_id}: rows_in = curated + quarantined + replayed (summary)", s.get("rows_in", 0),
                     s.get("curated", 0) + s.get("quarantined", 0) + s.get("replayed", 0)),
            Identity(f"{run.run_id}: summary curated = curated rows it committed", s.get("curated", 0), run.curated_written),
            Identity(f"{run.run_id}: summary quarantined = quarantine rows it committed",
                     s.get("quarantined", 0), run.quarantine_written),
        ]
    if attempt is not None:
        retry = next(run for run in result.runs if run.run_id == f"{attempt.run_id}-retry")
        checks += [
            Identity(f"{attempt.run_id} (failed after its curated commit): quarantine rows it committed = 0",
                     attempt.quarantine_written, 0),
            Identity(f"{retry.run_id}: replayed = the attempt's curated rows (its own, not redeliveries)",
                     retry.summary.get("replayed", 0), attempt.curated_written),
            Identity(f"{retry.run_id}: lines read = attempt's curated + retry's curated + quarantined",
                     retry.lines_read, attempt.curated_written + retry.curated_written + retry.quarantine_written),
            Identity(f"{retry.run_id}: curated data files unchanged by the retry (1 = yes)",
                     int(result.after_retry["curated"]["files"] == result.after_failed_attempt["curated"]["files"]), 1),
        ]
    checks += [
        Identity("curated rows = distinct valid readings (truth)", curated_rows, len(fleet.expected)),
        Identity("Firehose error records = invalid records sent (truth)", errors, len(truth.invalid(fleet))),
        Identity("quarantine rows = redeliveries sent (truth)", quarantined, len(truth.redeliveries(fleet))),
    ]
    if result.repeat is not None:
        before, after = result.before_repeat, result.after_repeat
        checks += [
            Identity("repeat run: replayed = raw lines (every line found committed)", result.repeat.summary.get("replayed", 0), raw_lines),
            Identity("repeat run: curated rows unchanged", after["curated_rows"], before["curated_rows"]),
            Identity("repeat run: quarantine rows unchanged", after["quarantine_rows"], before["quarantine_rows"]),
            Identity("repeat run: no new snapshot, no file changed (1 = yes)",
                     int(after["curated"] == before["curated"] and after["quarantine"] == before["quarantine"]), 1),
        ]
    return checks


def build(result: Any) -> dict[str, Any]:
    fleet = result.fleet
    checks = identities(result)
    quarantine_reasons = Counter(row["reason"] for row in inventory.quarantine_rows(result.output.quarantine))
    return {
        "parameters": result.parameters,
        "delivery_stream": {k: getattr(result.config, k) for k in (
            "prefix", "error_prefix", "compression", "buffer_size_mib", "buffer_interval_seconds",
            "processor_buffer_size_mib", "processor_buffer_interval_seconds", "processor_retries", "handler")},
        "fleet": {
            "devices": len(fleet.devices), "start": fleet.start.isoformat(), "end": fleet.end.isoformat(),
            "kinesis_records": len(fleet.records),
            "distinct_valid_readings": len(fleet.expected),
            "valid_by_case": dict(sorted(Counter(r.case for r in fleet.expected).items())),
            "redeliveries": dict(sorted(Counter(r.case for r in truth.redeliveries(fleet)).items())),
            "invalid": dict(sorted(Counter(r.case for r in truth.invalid(fleet)).items())),
            "silent_devices": len(fleet.silent_since),
        },
        "firehose": result.firehose.as_dict() | {
            "raw_objects": len(result.raw_files), "raw_lines": inventory.count_lines(result.raw_files),
            "error_records": len(result.error_records),
            "error_codes": dict(Counter(d["errorCode"] for d in result.error_records)),
        },
        "job_runs": [run.as_dict() for run in result.runs],
        "failed_attempt": result.failed_attempt.as_dict() if result.failed_attempt else None,
        "quarantine_by_reason": dict(sorted(quarantine_reasons.items())),
        "repeat_run": result.repeat.as_dict() if result.repeat else None,
        "queries": ({"skipped": result.query_skip_reason} if result.query_skip_reason else
                    {a.name: a.as_dict() for a in result.answers} | {"trino_startup_seconds": round(result.trino_startup, 1)}),
        "identities": [{"identity": c.name, "left": c.left, "right": c.right, "holds": c.holds} for c in checks],
        "all_identities_hold": all(c.holds for c in checks),
        "queries_match_ground_truth": all(not a.problems for a in result.answers),
        "timings_seconds": {k: round(v, 2) for k, v in result.timings.items()},
    }


def markdown(data: dict[str, Any]) -> str:
    fleet, hose, params = data["fleet"], data["firehose"], data["parameters"]
    lines = [
        f"# Data path run: {params['devices']} devices x {params['days']} days, seed {params['seed']}, {params['runs']} job runs",
        "",
        "| stage | count |",
        "|---|---:|",
        f"| Kinesis records sent | {fleet['kinesis_records']:,} |",
        f"| distinct valid readings | {fleet['distinct_valid_readings']:,} |",
        f"| redeliveries | {sum(fleet['redeliveries'].values()):,} {json.dumps(fleet['redeliveries'])} |",
        f"| invalid records | {sum(fleet['invalid'].values()):,} |",
        f"| transform invocations | {hose['invocations']:,} (largest batch {hose['max_batch_records']} records, "
        f"{hose['max_request_bytes']:,} B request, {hose['max_response_bytes']:,} B response) |",
        f"| Ok / ProcessingFailed / Dropped | {hose['ok']:,} / {hose['processing_failed']:,} / {hose['dropped']:,} |",
        f"| raw objects (lines) | {hose['raw_objects']:,} ({hose['raw_lines']:,}) |",
        f"| error records (objects) | {hose['error_records']:,} ({hose['error_objects']:,}) |",
    ]
    attempt = data.get("failed_attempt")
    for run in data["job_runs"]:
        s = run["summary"]
        if attempt and run["run_id"] == f"{attempt['run_id']}-retry":
            lines.append(f"| job {attempt['run_id']}, first attempt: files; committed curated, quarantine rows | {attempt['files']:,}; "
                         f"{attempt['committed_curated_rows']:,}, {attempt['committed_quarantine_rows']:,} ({attempt['failed']}) |")
        lines.append(f"| job {run['run_id']}: files, rows in, curated, quarantined, replayed | {run['files']:,}, {s.get('rows_in', 0):,}, "
                     f"{s.get('curated', 0):,}, {s.get('quarantined', 0):,}, {s.get('replayed', 0):,} ({run['seconds']} s) |")
    if data["repeat_run"]:
        s = data["repeat_run"]["summary"]
        lines.append(f"| repeat run on all raw files: rows in, curated, quarantined, replayed | {s.get('rows_in', 0):,}, "
                     f"{s.get('curated', 0):,}, {s.get('quarantined', 0):,}, {s.get('replayed', 0):,} |")
    lines += ["", f"Transform failures by reason (its log): `{json.dumps(hose['failed_by_reason'])}`",
              f"Quarantine by reason: `{json.dumps(data['quarantine_by_reason'])}`", "",
              "| identity (counted on the files and the committed tables) | left | right | holds |", "|---|---:|---:|---|"]
    lines += [f"| {c['identity']} | {c['left']:,} | {c['right']:,} | {'yes' if c['holds'] else '**NO**'} |"
              for c in data["identities"]]
    lines += ["", "| saved query | parameters | rows | equals ground truth |", "|---|---|---:|---|"]
    queries = data["queries"]
    if "skipped" in queries:
        lines.append(f"| skipped | {queries['skipped']} | | |")
    else:
        for name, answer in queries.items():
            if isinstance(answer, dict):
                verdict = "yes" if answer["matches_ground_truth"] else "**NO**: " + "; ".join(answer["problems"])[:300]
                lines.append(f"| {name} | {answer['parameters']} | {answer['rows']:,} | {verdict} |")
    lines += ["", "| timing | seconds |", "|---|---:|"]
    lines += [f"| {name} | {seconds} |" for name, seconds in data["timings_seconds"].items()]
    return "\n".join(lines) + "\n"


def write(data: dict[str, Any], output: Path) -> tuple[Path, Path]:
    json_path, md_path = output / "report.json", output / "report.md"
    json_path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    md_path.write_text(markdown(data))
    return json_path, md_path
