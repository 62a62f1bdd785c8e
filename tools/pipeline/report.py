"""The pipeline's report: counts at every stage, the accounting identities (on the files), the
timings and the saved queries' answers, as JSON and Markdown."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
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
    """Each one counted from the files (lines of the raw objects, Firehose's error documents,
    Parquet rows, quarantine lines), except where it names the job's summary or the truth."""
    fleet, out = result.fleet, result.output
    raw_lines = inventory.count_lines(result.raw_files)
    errors = len(result.error_records)
    curated_rows = inventory.parquet_rows(inventory.parquet_files(out.curated))
    quarantined = sum(run.quarantine_written for run in result.runs)
    checks = [
        Identity("Kinesis records = raw lines + Firehose error records + dropped",
                 len(fleet.records), raw_lines + errors + result.firehose.dropped),
        Identity("raw lines = lines read by the scheduled runs (each file once)",
                 raw_lines, sum(run.lines_read for run in result.runs)),
        Identity("raw lines = curated rows + quarantine lines (files)", raw_lines, curated_rows + quarantined),
    ]
    for run in result.runs:
        checks += [
            Identity(f"{run.run_id}: lines in its files = its summary's rows_in", run.lines_read, run.summary.get("rows_in", 0)),
            Identity(f"{run.run_id}: summary curated = Parquet rows it added", run.summary.get("curated", 0), run.curated_written),
            Identity(f"{run.run_id}: summary quarantined = lines in its quarantine folder",
                     run.summary.get("quarantined", 0), run.quarantine_written),
        ]
    checks += [
        Identity("curated rows = distinct valid readings (truth)", curated_rows, len(fleet.expected)),
        Identity("Firehose error records = invalid records sent (truth)", errors, len(truth.invalid(fleet))),
        Identity("quarantine lines = redeliveries sent (truth)", quarantined, len(truth.redeliveries(fleet))),
    ]
    if result.repeat is not None:
        checks += [
            Identity("repeat run: curated rows unchanged", result.curated_after_repeat, curated_rows),
            Identity("repeat run: quarantine lines = raw lines, all duplicate",
                     result.repeat.quarantine_written, raw_lines),
        ]
    return checks


def build(result: Any) -> dict[str, Any]:
    fleet = result.fleet
    checks = identities(result)
    quarantine_reasons: Counter = Counter()
    for run in result.runs:
        quarantine_reasons.update(row["reason"] for row in inventory.quarantine_rows(result.output.quarantine, run.run_id))
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
    for run in data["job_runs"]:
        s = run["summary"]
        lines.append(f"| job {run['run_id']}: files, rows in, curated, quarantined | {run['files']:,}, {s.get('rows_in', 0):,}, "
                     f"{s.get('curated', 0):,}, {s.get('quarantined', 0):,} ({run['seconds']} s) |")
    if data["repeat_run"]:
        s = data["repeat_run"]["summary"]
        lines.append(f"| repeat run on all raw files: rows in, curated, quarantined | {s.get('rows_in', 0):,}, "
                     f"{s.get('curated', 0):,}, {s.get('quarantined', 0):,} |")
    lines += ["", f"Transform failures by reason (its log): `{json.dumps(hose['failed_by_reason'])}`",
              f"Quarantine by reason: `{json.dumps(data['quarantine_by_reason'])}`", "",
              "| identity (counted on the files) | left | right | holds |", "|---|---:|---:|---|"]
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
