"""Runs the stages in order, timing each; stops at the first failure (later stages read what the
failed one should have produced) and prints the table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from tools.aws_env import error_code
from tools.smoke import discovery, stages_ingest, stages_query
from tools.smoke.context import SmokeContext, StageFailed

Stage = Callable[[SmokeContext], str]

STAGES: dict[str, Stage] = {
    "discover": discovery.discover,
    "send": stages_ingest.send,
    "raw": stages_ingest.raw,
    "search": stages_ingest.search,
    "glue": stages_query.glue,
    "athena": stages_query.athena,
    "spectrum": stages_query.spectrum,
}


@dataclass(frozen=True)
class StageResult:
    name: str
    result: str  # PASS, FAIL or "not run"
    seconds: float | None
    detail: str


def run_stage(name: str, stage: Stage, ctx: SmokeContext) -> StageResult:
    start = ctx.clock()
    try:
        detail, result = stage(ctx), "PASS"
    except StageFailed as failure:
        detail, result = str(failure), "FAIL"
    except ClientError as error:
        operation = getattr(error, "operation_name", "a call")
        detail = f"AWS refused {operation}: {error_code(error)}: {error.response['Error'].get('Message', '')}".rstrip(": ")
        result = "FAIL"
    except BotoCoreError as error:
        detail, result = f"could not reach AWS: {error}", "FAIL"
    return StageResult(name, result, ctx.clock() - start, detail)


def run_stages(ctx: SmokeContext, stages: dict[str, Stage] = STAGES) -> list[StageResult]:
    results: list[StageResult] = []
    for name, stage in stages.items():
        if results and results[-1].result != "PASS":
            results.append(StageResult(name, "not run", None, ""))
            continue
        results.append(run_stage(name, stage, ctx))
    return results


def table(results: list[StageResult]) -> list[str]:
    width = max(len("stage"), *(len(r.name) for r in results))
    lines = [f"{'stage':<{width}}  {'result':<7}  {'seconds':>7}  detail"]
    for r in results:
        seconds = f"{r.seconds:.1f}" if r.seconds is not None else "-"
        lines.append(f"{r.name:<{width}}  {r.result:<7}  {seconds:>7}  {r.detail}".rstrip())
    return lines


def verdict(env_name: str, results: list[StageResult]) -> tuple[int, str]:
    failed = next((r for r in results if r.result == "FAIL"), None)
    total = sum(r.seconds or 0.0 for r in results)
    if failed is None:
        return 0, f"smoke {env_name}: PASSED, {len(results)} stages in {total:.1f} s"
    return 1, f"smoke {env_name}: FAILED at stage '{failed.name}': {failed.detail}"
