"""Shared builders for the construct tests: a stack as a team declares one (a concrete environment,
availability zones taken at deploy time), an imported alarm topic, and readers of a template's alarm
actions and of its one resource of a type."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from constructs_lib import DeployTimeAvailabilityZones


class TeamStack(DeployTimeAvailabilityZones, cdk.Stack):
    """A stack with a concrete environment as a team declares one for DataNetwork: its availability
    zones are chosen at deploy time, never looked up."""


def stack() -> cdk.Stack:
    """An environment-specific stack with partition literals on (as in cdk.json), so ARNs are
    plain strings in assertions."""
    app = cdk.App(context={"@aws-cdk/core:enablePartitionLiterals": True})
    return TeamStack(app, "Test", env=cdk.Environment(account="111122223333", region="eu-west-1"))


def topic(scope: cdk.Stack) -> sns.ITopic:
    return sns.Topic.from_topic_arn(scope, "Alarms", "arn:aws:sns:eu-west-1:111122223333:alarms")


def alarm_actions(template: Template) -> list:
    return [a["Properties"].get("AlarmActions") for a in template.find_resources("AWS::CloudWatch::Alarm").values()]


def only(template: Template, resource_type: str) -> dict:
    (resource,) = template.find_resources(resource_type).values()
    return resource
