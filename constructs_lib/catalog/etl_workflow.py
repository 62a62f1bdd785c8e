"""A Glue workflow that runs crawlers and jobs one after the other, and alerts when one fails.

``steps`` run in order: a scheduled trigger starts the first, and each later step starts when
the one before it succeeded (a conditional trigger). A failed, timed-out or stopped step ends
the run there, and an EventBridge rule sends its state-change event to ``alarm_topic``. An
alert EventBridge cannot deliver (after its retries) lands in an encrypted dead-letter queue,
whose depth has an alarm of its own, so no failure goes unreported silently.

Fixed: triggers are activated on creation (CloudFormation's default leaves a trigger created
but inactive, so the schedule would silently never fire); one workflow run at a time (the job
bookmarks of two overlapping runs would hand both the same files). EventBridge publishes through
a role of its own (no change to the topic's policy, which may live in another stack).
Tunable: the schedule, the steps, the alarm topic (``None``: no alerts), the removal policy of
the dead-letter queue and its key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib.common.dead_letters import dead_letter_queue
from constructs_lib.common.encryption import rotating_key
from constructs_lib.common.monitoring import check_topic_region, notify
from constructs_lib.common.removal import apply_data_removal_policy, check_data_removal_policy
from constructs_lib.common.validation import instance, instance_list, text

Step = Union[glue.CfnCrawler, glue.IJob]  # noqa: UP007 - jsii interfaces do not support "|"

#: Glue's terminal states that mean a step did not do its work.
JOB_FAILURE_STATES = ("FAILED", "TIMEOUT", "STOPPED", "ERROR")
CRAWLER_FAILURE_STATES = ("Failed",)


def _start(step: Step) -> glue.Action:
    return glue.Action.crawler(step) if isinstance(step, glue.CfnCrawler) else glue.Action.job(step)


def _succeeded(step: Step) -> glue.Condition:
    if isinstance(step, glue.CfnCrawler):
        return glue.Condition.crawler(step, glue.CrawlerState.SUCCEEDED)
    return glue.Condition.job(step, glue.JobState.SUCCEEDED)


class EtlWorkflow(Construct):
    """Attributes: ``workflow``, ``triggers`` (one per step, in order), ``failure_rules``
    (``jobs`` and ``crawlers``), ``events_role``, ``dead_letter_queue`` and
    ``dead_letter_alarm``; the last four are empty or ``None`` without an alarm topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        workflow_name: str,
        schedule: glue.TriggerSchedule,
        steps: Sequence[Step],
        alarm_topic: sns.ITopic | None,
        description: str | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        existing_dead_letter_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        check_data_removal_policy(removal_policy, owner="EtlWorkflow")
        if existing_dead_letter_key is not None:
            instance("EtlWorkflow", "existing_dead_letter_key", existing_dead_letter_key, kms.IKey)
            if alarm_topic is None:
                raise ValueError(
                    "EtlWorkflow: existing_dead_letter_key has no effect without alarm_topic (no alert, no "
                    "dead-letter queue); leave it out"
                )
        self._existing_dead_letter_key = existing_dead_letter_key
        apply_data_removal_policy(
            self, removal_policy,
            what="the failure alerts' dead-letter queue" + (" and its key" if existing_dead_letter_key is None else ""),
        )
        text("EtlWorkflow", "workflow_name", workflow_name)
        steps = instance_list("EtlWorkflow", "steps", steps, (glue.CfnCrawler, glue.IJob))
        if not steps:
            raise ValueError("EtlWorkflow: steps must name at least one crawler or job")
        self._removal_policy = removal_policy
        self.workflow: glue.Workflow = glue.Workflow(
            self, "Workflow", workflow_name=workflow_name, description=description, max_concurrent_runs=1
        )
        self.triggers = [
            self.workflow.add_scheduled_trigger(
                "Start", schedule=schedule, actions=[_start(steps[0])], start_on_creation=True
            )
        ]
        for index, (previous, step) in enumerate(zip(steps, steps[1:], strict=False), start=1):
            trigger = self.workflow.add_conditional_trigger(
                f"Step{index}",
                predicate=glue.Predicate(conditions=[_succeeded(previous)]),
                actions=[_start(step)],
                start_on_creation=True,
            )
            # The L2 adds an event-batching condition, which only EVENT triggers use; a
            # conditional trigger fires once per run of the step it watches.
            trigger_resource = self.workflow.node.find_child(f"Step{index}")
            if not isinstance(trigger_resource, glue.CfnTrigger):
                raise TypeError(f"EtlWorkflow: expected the L2 to create a CfnTrigger, got {type(trigger_resource).__name__}")
            trigger_resource.add_property_deletion_override("EventBatchingCondition")
            self.triggers.append(trigger)

        self.failure_rules: dict[str, events.Rule] = {}
        self.events_role: iam.Role | None = None
        self.dead_letter_queue: sqs.Queue | None = None
        self.dead_letter_alarm: cloudwatch.Alarm | None = None
        if alarm_topic is not None:
            self._alert_on_failures(steps, alarm_topic)

    def _alert_on_failures(self, steps: Sequence[Step], topic: sns.ITopic) -> None:
        self.events_role = iam.Role(
            self, "EventsRole", assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="EventBridge publishes Glue failure events of this workflow to the alarm topic",
        )
        self._dead_letters(topic)
        crawlers = [s.ref for s in steps if isinstance(s, glue.CfnCrawler)]
        jobs = [s.job_name for s in steps if not isinstance(s, glue.CfnCrawler)]
        if jobs:
            self.failure_rules["jobs"] = self._rule(
                "JobFailed", "Glue Job State Change", {"jobName": jobs, "state": list(JOB_FAILURE_STATES)},
                topic, "Glue job <job> ended <state>: <message> (run <run>)",
                {"job": "$.detail.jobName", "state": "$.detail.state", "message": "$.detail.message", "run": "$.detail.jobRunId"},
            )
        if crawlers:
            self.failure_rules["crawlers"] = self._rule(
                "CrawlerFailed", "Glue Crawler State Change",
                {"crawlerName": crawlers, "state": list(CRAWLER_FAILURE_STATES)},
                topic, "Glue crawler <crawler> <state>: <message>",
                {"crawler": "$.detail.crawlerName", "state": "$.detail.state", "message": "$.detail.errorMessage"},
            )

    def _rule(
        self,
        construct_id: str,
        detail_type: str,
        detail: dict[str, list[str]],
        topic: sns.ITopic,
        template: str,
        paths: dict[str, str],
    ) -> events.Rule:
        rule = events.Rule(
            self,
            construct_id,
            description=f"{detail_type} to a failure state, for this workflow's steps",
            event_pattern=events.EventPattern(source=["aws.glue"], detail_type=[detail_type], detail=detail),
        )
        message = events.RuleTargetInput.from_text(
            _render(template, {name: events.EventField.from_path(path) for name, path in paths.items()})
        )
        check_topic_region(self, topic, owner="EtlWorkflow", sender="an EventBridge rule")
        rule.add_target(
            targets.SnsTopic(
                topic,
                message=message,
                authorize_using_role=True,
                role=self.events_role,
                dead_letter_queue=self.dead_letter_queue,
            )
        )
        return rule

    def _dead_letters(self, topic: sns.ITopic) -> None:
        if self._existing_dead_letter_key is not None:
            # A key of the team's own: its policy must let events.amazonaws.com use it (as below).
            self._dead_letter_queue(self._existing_dead_letter_key, topic)
            return
        key = rotating_key(
            self, "DeadLetterKey", description="Encrypts undelivered Glue failure alerts",
            removal_policy=self._removal_policy,
        )
        # EventBridge writes to the queue with its service principal; which rules may send is
        # limited by the queue policy that each target adds (aws:SourceArn = that rule). No condition
        # here: the key policy the Amazon SQS developer guide documents for AWS services that send to
        # encrypted queues ("Configure KMS permissions for AWS services",
        # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html)
        # names none, and a condition EventBridge does not send would drop every dead letter silently.
        # The key encrypts this one queue only.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowEventBridgeToWriteDeadLetters",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
            )
        )
        self._dead_letter_queue(key, topic)

    def _dead_letter_queue(self, key: kms.IKey, topic: sns.ITopic) -> None:
        self.dead_letter_queue = dead_letter_queue(
            self, "DeadLetterQueue", key=key, removal_policy=self._removal_policy,
            dead_letters_of="the workflow's EventBridge alert targets (an alarm watches its depth)",
        )
        self.dead_letter_alarm = cloudwatch.Alarm(
            self, "DeadLetterAlarm",
            alarm_description="A Glue failure alert could not be delivered to the alarm topic; it is in the dead-letter queue",
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(5), statistic="Maximum"
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        notify({"dead_letters": self.dead_letter_alarm}, topic)


def _render(template: str, fields: dict[str, str]) -> str:
    for name, value in fields.items():
        template = template.replace(f"<{name}>", value)
    return template
