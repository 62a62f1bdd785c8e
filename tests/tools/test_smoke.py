"""tools/smoke: every stage on its pass and fail paths with botocore's Stubber and a fake clock
(no network, no real waiting), the whole command through ``main``, its table and exit codes,
the one-line answer without credentials and ``--help`` in a subprocess, and the stack outputs
it reads held to the synthesised templates."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

from config import load_config
from tests.tools.aws_stubs import ACCOUNT, REGION, StubbedClients
from tests.tools.smoke_fakes import (
    ANALYST_ARN, DEVICES, PREFIX, RAW_PREFIX, SPECTRUM_TABLE, START, TARGETS, FakeTime, listing, make_ctx, stub_assume_analyst, stub_athena,
    stub_discover, stub_glue, stub_put_records, stub_raw, stub_search, stub_spectrum,
)
from tools.smoke.cli import main
from tools.smoke.discovery import OUTPUTS
from tools.smoke.runner import STAGES, StageResult, run_stage, run_stages, table, verdict

ROOT = Path(__file__).resolve().parents[2]
def stage(name: str, ctx) -> StageResult:
    return run_stage(name, STAGES[name], ctx)


def outcome(result: StageResult) -> tuple[str, str]:
    return result.result, result.detail


# --- discover ------------------------------------------------------------------------------


def test_discover_reads_every_name_from_the_stack_outputs():
    clients = StubbedClients()
    stub_discover(clients)
    ctx = make_ctx(clients, targets=False)
    assert outcome(stage("discover", ctx)) == ("PASS", f"7 outputs of 5 stacks in account {ACCOUNT}")
    assert ctx.targets == TARGETS


def test_discover_fails_naming_a_stack_that_is_not_deployed():
    clients = StubbedClients()
    clients.ok("sts", "get_caller_identity", {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ops", "UserId": "A"})
    clients.error("cloudformation", "describe_stacks", "ValidationError", "Stack with id analytics-dev-foundation does not exist")
    assert outcome(stage("discover", make_ctx(clients, targets=False))) == (
        "FAIL", "stack analytics-dev-foundation is not deployed -- fix: make deploy ENV=dev")


def test_discover_fails_naming_a_missing_output_and_a_broken_stack():
    clients = StubbedClients()
    clients.ok("sts", "get_caller_identity", {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ops", "UserId": "A"})
    clients.ok("cloudformation", "describe_stacks", {"Stacks": [{"StackName": "analytics-dev-foundation", "CreationTime": START,
                                                                 "StackStatus": "CREATE_COMPLETE", "Outputs": []}]})
    assert outcome(stage("discover", make_ctx(clients, targets=False))) == (
        "FAIL", "stack analytics-dev-foundation has no output RawBucketName -- fix: deploy the current code (make deploy ENV=dev)")
    clients = StubbedClients()
    clients.ok("sts", "get_caller_identity", {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ops", "UserId": "A"})
    clients.ok("cloudformation", "describe_stacks", {"Stacks": [{"StackName": "analytics-dev-foundation", "CreationTime": START,
                                                                 "StackStatus": "UPDATE_ROLLBACK_FAILED"}]})
    assert outcome(stage("discover", make_ctx(clients, targets=False))) == (
        "FAIL", "stack analytics-dev-foundation is UPDATE_ROLLBACK_FAILED -- fix: finish or repair its deployment first")


def test_the_outputs_smoke_reads_are_declared_by_the_synthesised_stacks(synthesised):
    """The output keys are a contract with the stacks: a renamed CfnOutput must fail here, not in a deployed account."""
    dev = synthesised("dev")
    for target, (part, key) in OUTPUTS.items():
        assert key in dev.template(f"analytics-dev-{part}").get("Outputs", {}), f"{target}: analytics-dev-{part} lacks {key}"


# --- send ----------------------------------------------------------------------------------


def test_send_puts_the_fleets_readings_on_the_stream_with_the_smoke_prefix():
    clients = StubbedClients()
    stub_put_records(clients, 6)
    ctx = make_ctx(clients, sent=False, target="kinesis", devices=2, readings=6, rate=100.0, seed=7)
    assert outcome(stage("send", ctx)) == ("PASS", f"6 readings from 2 devices {PREFIX}-* via kinesis")
    assert ctx.device_ids == set(DEVICES)
    assert {r["event_date"] for r in ctx.sent} == {"2026-12-06"}


def test_send_publishes_through_iot_core_on_the_environments_topics():
    clients = StubbedClients()
    clients.ok("iot", "describe_endpoint", {"endpointAddress": "abc-ats.iot.eu-west-1.amazonaws.com"}, {"endpointType": "iot:Data-ATS"})
    for n in range(2):
        clients.ok("iot-data", "publish", {})
    ctx = make_ctx(clients, sent=False, target="iot", devices=2, readings=2, rate=100.0)
    assert outcome(stage("send", ctx)) == ("PASS", f"2 readings from 2 devices {PREFIX}-* via iot")
    assert clients.kwargs["iot-data"] == {"endpoint_url": "https://abc-ats.iot.eu-west-1.amazonaws.com"}


def test_send_fails_when_the_stream_refuses():
    clients = StubbedClients()
    clients.error("kinesis", "put_records", "AccessDeniedException", "no kinesis:PutRecords")
    result = stage("send", make_ctx(clients, sent=False, target="kinesis", devices=2, readings=2, rate=100.0))
    assert result.result == "FAIL"
    assert result.detail.startswith("sent 0, failed 2 of 2 readings generated (2 planned)")
    assert "stopped: Kinesis PutRecords failed" in result.detail and "AccessDeniedException" in result.detail


# --- raw -----------------------------------------------------------------------------------


def test_raw_finds_every_reading_in_new_objects_only():
    clients = StubbedClients()
    stub_raw(clients)
    progress: list[str] = []
    result = stage("raw", make_ctx(clients, progress=progress))
    assert outcome(result) == ("PASS", f"2 of 2 readings in 1 new objects under s3://{TARGETS.raw_bucket}/{RAW_PREFIX}")
    assert progress == ["raw: 2 of 2 readings in 1 new objects (0 s of 900 s)"]


def test_raw_times_out_with_what_it_saw():
    clients = StubbedClients()
    for _ in range(4):
        clients.ok("s3", "list_objects_v2", listing(), {"Bucket": TARGETS.raw_bucket, "Prefix": RAW_PREFIX})
    progress: list[str] = []
    result = stage("raw", make_ctx(clients, progress=progress, raw_timeout=30.0, poll_seconds=10.0))
    assert outcome(result) == ("FAIL", "timed out after 30 s: 0 of 2 readings in 0 new objects")
    assert result.seconds == 30.0
    assert progress[-1] == "raw: 0 of 2 readings in 0 new objects (30 s of 30 s)"


def test_raw_keeps_waiting_until_the_last_reading_lands():
    clients = StubbedClients()
    stub_raw(clients, devices=DEVICES[:1])
    second = f"{RAW_PREFIX}analytics-dev-1-2026-12-06-05-01-10-def.gz"
    first = f"{RAW_PREFIX}analytics-dev-1-2026-12-06-05-00-10-abc.gz"
    from tests.tools.smoke_fakes import gzip_lines, reading

    clients.ok("s3", "list_objects_v2", listing((first, START + dt.timedelta(seconds=70)), (second, START + dt.timedelta(seconds=130))))
    clients.ok("s3", "get_object", {"Body": gzip_lines([reading(DEVICES[1])])}, {"Bucket": TARGETS.raw_bucket, "Key": second})
    progress: list[str] = []
    assert stage("raw", make_ctx(clients, progress=progress)).result == "PASS"
    assert progress == ["raw: 1 of 2 readings in 1 new objects (0 s of 900 s)", "raw: 2 of 2 readings in 2 new objects (10 s of 900 s)"]


def test_raw_matches_event_times_as_instants_not_text():
    """The raw zone may write 05:00:00.000000Z for the 05:00:00.000Z sent: the same reading."""
    from tests.tools.smoke_fakes import gzip_lines, reading

    clients = StubbedClients()
    key = f"{RAW_PREFIX}analytics-dev-1-2026-12-06-05-00-10-abc.gz"
    clients.ok("s3", "list_objects_v2", listing((key, START + dt.timedelta(seconds=70))))
    body = gzip_lines([reading(device, "2026-12-06T05:00:00.000000Z") for device in DEVICES] + [reading(DEVICES[0], "garbage")])
    clients.ok("s3", "get_object", {"Body": body})
    assert stage("raw", make_ctx(clients)).result == "PASS"


# --- search --------------------------------------------------------------------------------


def test_search_passes_when_every_reading_was_indexed_and_nothing_failed():
    clients = StubbedClients()
    stub_search(clients)
    assert outcome(stage("search", make_ctx(clients))) == (
        "PASS", f"{TARGETS.search_delivery_stream}: 2 documents indexed of 2 sent, no failed documents")


def test_search_fails_on_new_failed_documents():
    clients = StubbedClients()
    stub_search(clients, failed_objects=1)
    assert outcome(stage("search", make_ctx(clients))) == (
        "FAIL", f"1 new object(s) under s3://{TARGETS.raw_bucket}/search-failed/telemetry/, e.g. "
                "search-failed/telemetry/AmazonOpenSearchService-failed/2026/12/06/05/f0 -- fix: read the error in it "
                "(aws s3 cp ... - | gunzip)")


def test_search_fails_when_index_requests_failed():
    clients = StubbedClients()
    stub_search(clients, success=0.5)
    assert outcome(stage("search", make_ctx(clients))) == (
        "FAIL", f"{TARGETS.search_delivery_stream}: DeliveryToAmazonOpenSearchService.Success fell to 0.5 (some index "
                "requests failed) -- fix: see the delivery stream's error logs")


def test_search_times_out_when_too_few_documents_were_indexed():
    clients = StubbedClients()
    stub_search(clients, records=1.0)
    stub_search(clients, records=1.0)
    assert outcome(stage("search", make_ctx(clients, search_timeout=5.0))) == (
        "FAIL", "timed out after 5 s: 1 documents indexed of 2 sent")


# --- glue ----------------------------------------------------------------------------------


def test_glue_starts_the_workflow_and_waits_for_it():
    clients = StubbedClients()
    stub_glue(clients)
    progress: list[str] = []
    assert outcome(stage("glue", make_ctx(clients, progress=progress))) == (
        "PASS", f"{TARGETS.workflow_name} run wr_1: COMPLETED, 3 of 3 actions succeeded")
    assert progress == ["glue: RUNNING, 1 of 3 actions succeeded (0 s of 3600 s)",
                        "glue: COMPLETED, 3 of 3 actions succeeded (10 s of 3600 s)"]


def test_glue_fails_when_a_step_failed_even_if_the_run_completed():
    clients = StubbedClients()
    stub_glue(clients, {"Run": {"Status": "COMPLETED", "Statistics": {"TotalActions": 3, "SucceededActions": 1, "FailedActions": 1}}})
    assert outcome(stage("glue", make_ctx(clients))) == (
        "FAIL", f"run wr_1 COMPLETED: FailedActions 1 -- fix: aws glue get-workflow-run --name {TARGETS.workflow_name} "
                "--run-id wr_1 --include-graph")


def test_glue_fails_on_an_errored_run_and_on_a_run_in_progress():
    clients = StubbedClients()
    stub_glue(clients, {"Run": {"Status": "ERROR", "ErrorMessage": "crawler is not in READY state"}})
    assert outcome(stage("glue", make_ctx(clients))) == (
        "FAIL", f"run wr_1 ERROR: crawler is not in READY state -- fix: aws glue get-workflow-run --name "
                f"{TARGETS.workflow_name} --run-id wr_1 --include-graph")
    clients = StubbedClients()
    clients.error("glue", "start_workflow_run", "ConcurrentRunsExceededException")
    assert outcome(stage("glue", make_ctx(clients))) == (
        "FAIL", f"a run of {TARGETS.workflow_name} is in progress already (its schedule?) -- fix: rerun the smoke test when "
                f"it has finished (aws glue get-workflow-runs --name {TARGETS.workflow_name})")


# --- athena --------------------------------------------------------------------------------


def test_athena_runs_the_saved_query_as_the_analyst_with_the_day_as_parameter():
    clients, analyst = StubbedClients(), StubbedClients()
    stub_assume_analyst(clients)
    stub_athena(analyst)
    assert outcome(stage("athena", make_ctx(clients, analyst))) == (
        "PASS", f"hourly-aggregates-per-device in {TARGETS.analysts_workgroup} as {ANALYST_ARN}: all 2 smoke devices on 2026-12-06")


def test_athena_fails_naming_the_missing_devices():
    clients, analyst = StubbedClients(), StubbedClients()
    stub_assume_analyst(clients)
    stub_athena(analyst, devices=DEVICES[:1])
    assert outcome(stage("athena", make_ctx(clients, analyst))) == (
        "FAIL", f"hourly-aggregates-per-device in {TARGETS.analysts_workgroup} as {ANALYST_ARN} found 1 of 2 smoke devices; "
                f"missing {DEVICES[1]}")


def test_athena_fails_with_the_query_error():
    clients, analyst = StubbedClients(), StubbedClients()
    stub_assume_analyst(clients)
    stub_athena(analyst, final_state="FAILED")
    assert outcome(stage("athena", make_ctx(clients, analyst))) == (
        "FAIL", "hourly-aggregates-per-device (2026-12-06) FAILED: Insufficient Lake Formation permission(s) on telemetry")


def test_athena_fails_when_the_analyst_cannot_be_assumed_or_the_query_is_not_saved():
    clients = StubbedClients()
    clients.error("sts", "assume_role", "AccessDenied", http_status=403)
    assert outcome(stage("athena", make_ctx(clients))) == (
        "FAIL", f"cannot assume {ANALYST_ARN}: AccessDenied -- fix: use credentials allowed to assume it, pass "
                "--athena-role-arn, or --athena-as-caller with a Lake Formation grant")
    clients = StubbedClients()
    clients.ok("athena", "list_named_queries", {})
    assert outcome(stage("athena", make_ctx(clients, athena_as_caller=True))) == (
        "FAIL", f"no saved query 'hourly-aggregates-per-device' in workgroup {TARGETS.analysts_workgroup} -- fix: deploy the catalog stack")


# --- spectrum ------------------------------------------------------------------------------


def test_spectrum_counts_every_smoke_reading_through_the_external_schema():
    clients = StubbedClients()
    stub_spectrum(clients)
    assert outcome(stage("spectrum", make_ctx(clients))) == ("PASS", f"{SPECTRUM_TABLE}: all 2 readings of 2 smoke devices")


def test_spectrum_fails_on_a_failed_statement_and_on_missing_readings():
    clients = StubbedClients()
    stub_spectrum(clients, final="FAILED")
    assert outcome(stage("spectrum", make_ctx(clients))) == (
        "FAIL", 'statement st-1 FAILED: ERROR: schema "curated" does not exist')
    clients = StubbedClients()
    stub_spectrum(clients, counts={DEVICES[0]: 1})
    assert outcome(stage("spectrum", make_ctx(clients))) == (
        "FAIL", f"{SPECTRUM_TABLE} has 1 smoke readings from 1 devices; expected 2 from 2")


# --- the run and the command ---------------------------------------------------------------


def test_stages_after_a_failure_are_not_run_and_the_verdict_names_the_first_failure():
    clients = StubbedClients()
    clients.error("sts", "get_caller_identity", "ExpiredToken", "token expired")
    results = run_stages(make_ctx(clients, targets=False, sent=False))
    assert [(r.name, r.result) for r in results] == [("discover", "FAIL")] + [(name, "not run") for name in list(STAGES)[1:]]
    assert verdict("dev", results) == (1, "smoke dev: FAILED at stage 'discover': AWS refused GetCallerIdentity: ExpiredToken: token expired")
    assert table(results)[0] == "stage     result   seconds  detail"
    assert table(results)[2] == "send      not run        -"


def _stub_everything(clients: StubbedClients, analyst: StubbedClients) -> None:
    stub_discover(clients)
    stub_put_records(clients, 2)
    stub_raw(clients)
    stub_search(clients)
    stub_glue(clients)
    stub_assume_analyst(clients)
    stub_athena(analyst)
    stub_spectrum(clients)


def test_main_runs_every_stage_prints_the_table_and_exits_0():
    clients, analyst = StubbedClients(), StubbedClients()
    _stub_everything(clients, analyst)
    fake, out, err = FakeTime(), io.StringIO(), io.StringIO()
    code = main(["--env", "dev", "--target", "kinesis", "--devices", "2", "--readings", "2", "--rate", "100", "--poll-seconds", "10"],
                session=clients.session, clients=clients, role_clients=lambda credentials: analyst, environ={"AWS_REGION": REGION},
                stdout=out, stderr=err, clock=fake.clock, sleep=fake.sleep, now=fake.now)
    lines = out.getvalue().splitlines()
    assert code == 0, out.getvalue()
    assert lines[0] == (f"smoke dev in {REGION}: devices {PREFIX}-*; creates and deletes nothing "
                        "(one Glue workflow run, Athena and Redshift queries)")
    assert [line.split()[:2] for line in lines[2:9]] == [[name, "PASS"] for name in STAGES]
    assert lines[4] == f"raw       PASS         0.0  2 of 2 readings in 1 new objects under s3://{TARGETS.raw_bucket}/{RAW_PREFIX}"
    assert lines[6].startswith("glue      PASS        10.0  ")
    assert lines[-1].startswith("smoke dev: PASSED, 7 stages in ")
    # Timeouts not given follow the environment: the delivery's intervals + 600 s, the job's timeout + 1800 s.
    env = load_config("dev").environment
    raw_timeout = env.ingestion.delivery.buffer_interval_seconds + env.ingestion.delivery.processor_buffer_interval_seconds + 600
    progress = err.getvalue().splitlines()
    assert progress[0] == f"raw: 2 of 2 readings in 1 new objects (0 s of {raw_timeout} s)"
    assert f"glue: RUNNING, 1 of 3 actions succeeded (0 s of {env.catalog.job.timeout_minutes * 60 + 1800} s)" in progress
    clients.assert_done()
    analyst.assert_done()


def test_main_exits_1_naming_the_first_failed_stage():
    clients, analyst = StubbedClients(), StubbedClients()
    stub_discover(clients)
    stub_put_records(clients, 2)
    for _ in range(2):
        clients.ok("s3", "list_objects_v2", listing())
    fake, out = FakeTime(), io.StringIO()
    code = main(["--env", "dev", "--target", "kinesis", "--devices", "2", "--readings", "2", "--rate", "100",
                 "--raw-timeout", "10", "--poll-seconds", "10"],
                session=clients.session, clients=clients, role_clients=lambda credentials: analyst, environ={"AWS_REGION": REGION},
                stdout=out, stderr=io.StringIO(), clock=fake.clock, sleep=fake.sleep, now=fake.now)
    lines = out.getvalue().splitlines()
    assert code == 1
    assert lines[-1] == "smoke dev: FAILED at stage 'raw': timed out after 10 s: 0 of 2 readings in 0 new objects"
    assert [line.split()[1] for line in lines[2:9]] == ["PASS", "PASS", "FAIL", "not", "not", "not", "not"]
    clients.assert_done()


def _offline_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(tmp_path), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_CONFIG_FILE=str(tmp_path / "none"),
               AWS_EC2_METADATA_DISABLED="true")
    return env


def test_without_credentials_it_prints_one_line_and_exits_1(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tools.smoke", "--env", "staging"], cwd=ROOT, env=_offline_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (1, (
        "FAIL credentials: no AWS credentials found: set AWS_PROFILE (after `aws sso login` or `aws configure`), or "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile\n"))


def test_help_works_offline(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tools.smoke", "--help"], cwd=ROOT, env=_offline_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert done.stdout.startswith("usage: python -m tools.smoke")
    assert "Creates and deletes nothing." in text and "--workflow-timeout SECONDS" in text


def test_bad_arguments_exit_2(tmp_path):
    done = subprocess.run([sys.executable, "-m", "tools.smoke", "--readings", "0"], cwd=ROOT, env=_offline_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "must be greater than 0, got 0" in done.stderr
