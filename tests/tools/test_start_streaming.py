"""tools/streaming: after a deploy the anomaly-detection application is started once, from its latest
snapshot, and never restarted or forced when it is not READY."""

from __future__ import annotations

import pytest

from tests.tools.aws_stubs import StubbedClients
from tools.streaming.start import START_CONFIGURATION, application_name, main, start

NAME = "analytics-dev-anomaly-detection"


def describe(status: str) -> dict:
    return {"ApplicationDetail": {
        "ApplicationARN": f"arn:aws:kinesisanalytics:eu-west-1:111122223333:application/{NAME}",
        "ApplicationName": NAME, "RuntimeEnvironment": "FLINK-1_20", "ApplicationStatus": status, "ApplicationVersionId": 1,
    }}


def test_the_name_is_the_one_the_stack_gives(synthesised) -> None:
    template = synthesised("dev").template("analytics-dev-streaming")
    (application,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::KinesisAnalyticsV2::Application"]
    assert application["Properties"]["ApplicationName"] == application_name("analytics", "dev") == NAME


def test_a_ready_application_is_started_from_its_latest_snapshot() -> None:
    clients = StubbedClients()
    stub = clients.stub("kinesisanalyticsv2")
    stub.add_response("describe_application", describe("READY"), {"ApplicationName": NAME})
    stub.add_response("start_application", {}, {"ApplicationName": NAME, "RunConfiguration": START_CONFIGURATION})
    said: list[str] = []
    assert start(clients("kinesisanalyticsv2"), NAME, said.append) == 0
    assert said == [f"OK   {NAME}: READY -> starting from its latest snapshot (none on the first start)"]
    assert START_CONFIGURATION["FlinkRunConfiguration"] == {"AllowNonRestoredState": False}


@pytest.mark.parametrize("status", ["RUNNING", "STARTING", "UPDATING"])
def test_a_running_application_is_left_alone(status: str) -> None:
    clients = StubbedClients()
    clients.stub("kinesisanalyticsv2").add_response("describe_application", describe(status), {"ApplicationName": NAME})
    said: list[str] = []
    assert start(clients("kinesisanalyticsv2"), NAME, said.append) == 0
    assert said == [f"OK   {NAME}: {status}, nothing to start"]


@pytest.mark.parametrize("status", ["FORCE_STOPPING", "STOPPING", "DELETING"])
def test_any_other_status_fails_without_touching_it(status: str) -> None:
    clients = StubbedClients()
    clients.stub("kinesisanalyticsv2").add_response("describe_application", describe(status), {"ApplicationName": NAME})
    said: list[str] = []
    assert start(clients("kinesisanalyticsv2"), NAME, said.append) == 1
    assert said[0].startswith(f"FAIL {NAME}: {status}")


def test_a_missing_application_says_deploy_first() -> None:
    clients = StubbedClients()
    clients.stub("kinesisanalyticsv2").add_client_error(
        "describe_application", service_error_code="ResourceNotFoundException", expected_params={"ApplicationName": NAME}
    )
    said: list[str] = []
    assert start(clients("kinesisanalyticsv2"), NAME, said.append) == 1
    assert "deploy the streaming stack first" in said[0]


def test_without_credentials_it_says_so_in_one_line(capsys) -> None:
    class NoCredentials:
        region_name = "eu-west-1"

        def get_credentials(self):
            return None

    assert main(["--env", "dev"], make_session=lambda profile: NoCredentials()) == 1
    assert capsys.readouterr().err.startswith("FAIL credentials")
