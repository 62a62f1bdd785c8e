"""Wall time of synthesising each environment, against the floor of an empty one-stack app.

Every run is a fresh Python process started the way the CDK CLI starts ``app.py`` (context in
``CDK_CONTEXT_JSON``, output directory in ``CDK_OUTDIR``), so it includes the jsii start-up that
every ``cdk synth`` pays. The floor (``benchmarks/empty_app.py``) pays that start-up and almost
nothing else, so ``ratio = environment / floor`` is the cost of our app on top of CDK itself,
largely independent of how fast the machine is. Targets are run round-robin, so drift in machine
load hits all of them alike; the median of the repeats is reported, with min and max.

Usage: ``python -m benchmarks.synth_time [--repeats N]``; writes ``benchmarks/results/synth-time.{md,json}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import ROOT, publish

ENVIRONMENTS = ("dev", "staging", "prod")
FLOOR = "empty one-stack app"


def cdk_json_context() -> dict:
    return json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]


def command_for(target: str) -> tuple[list[str], dict]:
    if target == FLOOR:
        return [sys.executable, str(ROOT / "benchmarks" / "empty_app.py")], {}
    return [sys.executable, str(ROOT / "app.py")], {**cdk_json_context(), "env": target}


def time_once(target: str) -> float:
    argv, context = command_for(target)
    with tempfile.TemporaryDirectory(prefix="bench-cdk-out-") as outdir:
        env = {**os.environ, "CDK_OUTDIR": outdir, "CDK_CONTEXT_JSON": json.dumps(context)}
        start = time.perf_counter()
        result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(f"{target}: synth failed (exit {result.returncode}):\n{result.stderr[-2000:]}")
        if not list(Path(outdir).glob("*.template.json")):
            raise SystemExit(f"{target}: synth wrote no template to {outdir}")
    return elapsed


def measure(repeats: int) -> dict[str, list[float]]:
    targets = (FLOOR, *ENVIRONMENTS)
    samples: dict[str, list[float]] = {t: [] for t in targets}
    time_once(FLOOR)  # warm the file cache; not counted
    for round_number in range(1, repeats + 1):
        for target in targets:
            samples[target].append(time_once(target))
        print(f"round {round_number}/{repeats}: " + ", ".join(f"{t} {samples[t][-1]:.2f}s" for t in targets), flush=True)
    return samples


def report(samples: dict[str, list[float]], repeats: int) -> dict:
    floor = statistics.median(samples[FLOOR])
    rows = {
        target: {
            "median_s": round(statistics.median(values), 3),
            "min_s": round(min(values), 3),
            "max_s": round(max(values), 3),
            "ratio_to_floor": round(statistics.median(values) / floor, 2),
            "samples_s": [round(v, 3) for v in values],
        }
        for target, values in samples.items()
    }
    return {
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "repeats": repeats,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "node": subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip(),
            "platform": platform.platform(),
        },
        "results": rows,
    }


def markdown(data: dict) -> str:
    lines = [
        "# Synth time per environment",
        "",
        f"Measured {data['measured_at']}, {data['repeats']} runs each (median; min-max), "
        f"{data['machine']['cpus']} CPUs, Python {data['machine']['python']}, Node {data['machine']['node']}.",
        "",
        "| target | median (s) | min-max (s) | ratio to floor |",
        "|---|---:|---:|---:|",
    ]
    for target, row in data["results"].items():
        lines.append(f"| {target} | {row['median_s']:.2f} | {row['min_s']:.2f}-{row['max_s']:.2f} | {row['ratio_to_floor']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per target (default 5)")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    data = report(measure(args.repeats), args.repeats)
    publish("synth-time", data, markdown)


if __name__ == "__main__":
    main()
