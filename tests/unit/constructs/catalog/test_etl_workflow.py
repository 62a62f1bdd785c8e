"""EtlWorkflow: active triggers chain the steps one run at a time, and every failed step (or undeliverable alert) reaches the alarm topic."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_glue as glue
from aws_cdk.assertions import Match, Template

from constructs_lib import AlarmTopic, EtlWorkflow
from tests.unit.constructs.catalog.glue_helpers import TOPIC_ARN, lake
from tests.unit.constructs.stack_helpers import alarm_actions, only, topic
from tests.unit.constructs.template_helpers import arn_of, logical_id, ref, role_statements

SCHEDULE = glue.TriggerSchedule.cron(minute="0", hour="1")


def make(steps: tuple[str, ...], *, with_topic: bool = True, **kwargs):
    """A workflow over ``steps`` ("crawler" or "job", in order); the steps by position."""
    built = lake()
    made = [
        built.crawler(f"Crawler{i}", prefix=f"zone{i}/") if kind == "crawler" else built.job(f"Job{i}", target_prefixes=[f"zone{i}/"])
        for i, kind in enumerate(steps)
    ]
    resources = [s.crawler if kind == "crawler" else s.job for kind, s in zip(steps, made, strict=True)]
    workflow = EtlWorkflow(
        built.scope, "Workflow", workflow_name="telemetry", schedule=SCHEDULE, steps=resources,
        alarm_topic=topic(built.scope) if with_topic else None, **kwargs,
    )
    return workflow, resources, Template.from_stack(built.scope)


@pytest.fixture(scope="module")
def mixed():
    """crawler -> job -> crawler, alerting: covers both kinds of condition and both rules."""
    return make(("crawler", "job", "crawler"))


@pytest.fixture(scope="module")
def jobs_only():
    return make(("job",))


@pytest.fixture(scope="module")
def silent():
    return make(("crawler", "job"), with_topic=False)


def triggers(template: Template, kind: str) -> list[dict]:
    return [t["Properties"] for t in template.find_resources("AWS::Glue::Trigger", {"Properties": {"Type": kind}}).values()]


def start(step) -> dict:
    return {"CrawlerName": ref(step)} if isinstance(step, glue.CfnCrawler) else {"JobName": ref(step)}


def rule(workflow: EtlWorkflow, template: Template, kind: str) -> dict:
    return template.find_resources("AWS::Events::Rule")[logical_id(workflow.failure_rules[kind])]["Properties"]


def test_one_workflow_run_at_a_time(mixed) -> None:
    _, _, template = mixed
    assert only(template, "AWS::Glue::Workflow")["Properties"] == {"Name": "telemetry", "MaxConcurrentRuns": 1}


def test_description_reaches_the_workflow() -> None:
    _, _, template = make(("job",), with_topic=False, description="Nightly curation")
    assert only(template, "AWS::Glue::Workflow")["Properties"]["Description"] == "Nightly curation"


def test_the_schedule_starts_the_first_step_and_is_active_on_creation(mixed) -> None:
    workflow, steps, template = mixed
    (scheduled,) = triggers(template, "SCHEDULED")
    assert scheduled["Schedule"] == "cron(0 1 * * ? *)"
    assert scheduled["StartOnCreation"] is True
    assert scheduled["Actions"] == [start(steps[0])]
    assert scheduled["WorkflowName"] == ref(workflow.workflow)


def test_each_later_step_starts_when_the_one_before_it_succeeded(mixed) -> None:
    _, steps, template = mixed
    by_action = {str(t["Actions"]): t["Predicate"]["Conditions"] for t in triggers(template, "CONDITIONAL")}
    assert by_action == {
        str([start(steps[1])]): [{"CrawlerName": ref(steps[0]), "CrawlState": "SUCCEEDED", "LogicalOperator": "EQUALS"}],
        str([start(steps[2])]): [{"JobName": ref(steps[1]), "State": "SUCCEEDED", "LogicalOperator": "EQUALS"}],
    }


def test_conditional_triggers_are_active_on_creation_without_event_batching(mixed) -> None:
    workflow, _, template = mixed
    conditional = triggers(template, "CONDITIONAL")
    assert len(conditional) == 2
    for trigger in conditional:
        assert trigger["StartOnCreation"] is True
        assert "EventBatchingCondition" not in trigger
        assert trigger["WorkflowName"] == ref(workflow.workflow)


def test_triggers_attribute_lists_one_trigger_per_step_in_order(mixed) -> None:
    workflow, _, _ = mixed
    assert len(workflow.triggers) == 3


def test_a_single_step_needs_only_the_scheduled_trigger(jobs_only) -> None:
    workflow, steps, template = jobs_only
    assert triggers(template, "CONDITIONAL") == []
    (scheduled,) = triggers(template, "SCHEDULED")
    assert scheduled["Actions"] == [start(steps[0])]
    assert len(workflow.triggers) == 1


def test_a_job_may_come_first() -> None:
    _, steps, template = make(("job", "crawler"), with_topic=False)
    (scheduled,) = triggers(template, "SCHEDULED")
    assert scheduled["Actions"] == [{"JobName": ref(steps[0])}]
    (conditional,) = triggers(template, "CONDITIONAL")
    assert conditional["Actions"] == [{"CrawlerName": ref(steps[1])}]
    assert conditional["Predicate"]["Conditions"] == [{"JobName": ref(steps[0]), "State": "SUCCEEDED", "LogicalOperator": "EQUALS"}]


def test_no_steps_is_rejected() -> None:
    built = lake()
    with pytest.raises(ValueError, match="steps must name at least one crawler or job"):
        EtlWorkflow(built.scope, "Workflow", workflow_name="w", schedule=SCHEDULE, steps=[], alarm_topic=None)


def assert_alerts_topic_through_role_with_dead_letters(workflow: EtlWorkflow, props: dict) -> None:
    (target,) = props["Targets"]
    assert target["Arn"] == TOPIC_ARN
    assert target["RoleArn"] == arn_of(workflow.events_role)
    assert target["DeadLetterConfig"] == {"Arn": arn_of(workflow.dead_letter_queue)}
    assert props["State"] == "ENABLED"


def test_job_failures_of_its_jobs_alert_the_topic(mixed) -> None:
    workflow, steps, template = mixed
    props = rule(workflow, template, "jobs")
    assert props["EventPattern"] == {
        "source": ["aws.glue"],
        "detail-type": ["Glue Job State Change"],
        "detail": {"jobName": [ref(steps[1])], "state": ["FAILED", "TIMEOUT", "STOPPED", "ERROR"]},
    }
    assert_alerts_topic_through_role_with_dead_letters(workflow, props)
    template_text = props["Targets"][0]["InputTransformer"]["InputTemplate"]
    assert "<detail-jobName>" in template_text and "<detail-state>" in template_text


def test_crawler_failures_of_its_crawlers_alert_the_topic(mixed) -> None:
    workflow, steps, template = mixed
    props = rule(workflow, template, "crawlers")
    assert props["EventPattern"] == {
        "source": ["aws.glue"],
        "detail-type": ["Glue Crawler State Change"],
        "detail": {"crawlerName": [ref(steps[0]), ref(steps[2])], "state": ["Failed"]},
    }
    assert_alerts_topic_through_role_with_dead_letters(workflow, props)
    assert "<detail-crawlerName>" in props["Targets"][0]["InputTransformer"]["InputTemplate"]


def test_events_role_is_assumed_by_eventbridge_and_may_publish_to_the_topic_only(mixed) -> None:
    workflow, _, template = mixed
    role = template.find_resources("AWS::IAM::Role")[logical_id(workflow.events_role)]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}}
    ]
    assert role_statements(template, workflow.events_role) == [
        {"Action": "sns:Publish", "Effect": "Allow", "Resource": TOPIC_ARN}
    ]


def test_events_role_may_use_the_key_of_an_encrypted_alarm_topic() -> None:
    built = lake()
    alarms = AlarmTopic(built.scope, "Alarms")
    crawler = built.crawler("Crawler")
    workflow = EtlWorkflow(
        built.scope, "Workflow", workflow_name="w", schedule=SCHEDULE, steps=[crawler.crawler], alarm_topic=alarms.topic
    )
    granted = role_statements(Template.from_stack(built.scope), workflow.events_role)
    assert {"Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Effect": "Allow", "Resource": arn_of(alarms.key)} in granted


def test_dead_letter_queue_is_kept_14_days_encrypted_with_a_rotating_key_eventbridge_may_use(mixed) -> None:
    workflow, _, template = mixed
    queue = template.find_resources("AWS::SQS::Queue")[logical_id(workflow.dead_letter_queue)]["Properties"]
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    key_id = queue["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = template.find_resources("AWS::KMS::Key")[key_id]["Properties"]
    assert (key["EnableKeyRotation"], key["PendingWindowInDays"]) == (True, 30)
    events = next(s for s in key["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowEventBridgeToWriteDeadLetters")
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert events["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_dead_letter_queue_accepts_only_tls_and_only_the_workflows_rules(mixed) -> None:
    workflow, _, template = mixed
    statements = only(template, "AWS::SQS::QueuePolicy")["Properties"]["PolicyDocument"]["Statement"]
    assert {"Bool": {"aws:SecureTransport": "false"}} in [s.get("Condition") for s in statements if s["Effect"] == "Deny"]
    senders = [s["Condition"]["ArnEquals"]["aws:SourceArn"] for s in statements if s["Action"] == "sqs:SendMessage"]
    assert senders == [arn_of(workflow.failure_rules["jobs"]), arn_of(workflow.failure_rules["crawlers"])]


def test_an_undelivered_alert_raises_an_alarm_on_the_topic(mixed) -> None:
    workflow, _, template = mixed
    props = only(template, "AWS::CloudWatch::Alarm")["Properties"]
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum")
    assert props["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [logical_id(workflow.dead_letter_queue), "QueueName"]}}]
    assert (props["Threshold"], props["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert props["TreatMissingData"] == "notBreaching"
    assert alarm_actions(template) == [[TOPIC_ARN]]
    assert props["OKActions"] == [TOPIC_ARN]


def test_queue_and_its_key_are_retained_by_default(mixed) -> None:
    workflow, _, template = mixed
    queue = template.find_resources("AWS::SQS::Queue")[logical_id(workflow.dead_letter_queue)]
    key = template.find_resources("AWS::KMS::Key")[queue["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]]
    assert (queue["DeletionPolicy"], key["DeletionPolicy"]) == ("Retain", "Retain")


def test_destroy_deletes_the_queue_and_its_key() -> None:
    workflow, _, template = make(("job",), removal_policy=cdk.RemovalPolicy.DESTROY)
    queue = template.find_resources("AWS::SQS::Queue")[logical_id(workflow.dead_letter_queue)]
    key = template.find_resources("AWS::KMS::Key")[queue["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]]
    assert (queue["DeletionPolicy"], key["DeletionPolicy"]) == ("Delete", "Delete")


def test_only_jobs_give_only_a_job_rule(jobs_only) -> None:
    workflow, steps, template = jobs_only
    assert set(workflow.failure_rules) == {"jobs"}
    (props,) = [r["Properties"] for r in template.find_resources("AWS::Events::Rule").values()]
    assert props["EventPattern"]["detail"]["jobName"] == [ref(steps[0])]


def test_without_an_alarm_topic_there_are_no_rules_queue_role_or_alarm(silent) -> None:
    workflow, _, template = silent
    for resource_type in ("AWS::Events::Rule", "AWS::SQS::Queue", "AWS::CloudWatch::Alarm"):
        template.resource_count_is(resource_type, 0)
    template.resource_properties_count_is(
        "AWS::IAM::Role",
        {"AssumeRolePolicyDocument": {"Statement": [Match.object_like({"Principal": {"Service": "events.amazonaws.com"}})]}},
        0,
    )
    assert (workflow.failure_rules, workflow.events_role, workflow.dead_letter_queue, workflow.dead_letter_alarm) == ({}, None, None, None)
    assert len(triggers(template, "CONDITIONAL")) == 1  # the steps still run
