"""Physical names from the deployed stacks' outputs.

Stack names come from the project's naming helper (app.py names every environment stack
``<project>-<env>-<part>``, the same ``ResourceNamer`` form); output keys are the ``CfnOutput``
ids the stacks declare (tests hold them to the synthesised templates).
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from tools.smoke.context import SmokeContext, StageFailed, Targets

#: Targets field -> (stack part, output key).
OUTPUTS: dict[str, tuple[str, str]] = {
    "raw_bucket": ("foundation", "RawBucketName"),
    "stream_name": ("ingestion", "StreamName"),
    "workflow_name": ("catalog", "WorkflowName"),
    "analysts_workgroup": ("catalog", "AnalystsWorkgroupName"),
    "search_delivery_stream": ("search", "DeliveryStreamName"),
    "cluster_identifier": ("warehouse", "ClusterIdentifier"),
    "admin_secret_arn": ("warehouse", "AdminSecretArn"),
}
_READY = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE")


def stack_outputs(ctx: SmokeContext, stack_name: str) -> dict[str, str]:
    try:
        stack = ctx.clients("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in str(error):
            raise StageFailed(f"stack {stack_name} is not deployed -- fix: make deploy ENV={ctx.env_name}") from None
        raise
    if stack["StackStatus"] not in _READY:
        raise StageFailed(f"stack {stack_name} is {stack['StackStatus']} -- fix: finish or repair its deployment first")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def discover(ctx: SmokeContext) -> str:
    """Stage ``discover``: the caller's account and every name the later stages need."""
    identity = ctx.clients("sts").get_caller_identity()
    ctx.account, ctx.partition = identity["Account"], identity["Arn"].split(":")[1]
    configured = ctx.config.environment.account
    if configured is not None and configured != ctx.account:
        raise StageFailed(f"the credentials are for account {ctx.account}, environment {ctx.env_name!r} is in "
                          f"{configured} (`account` in config/environments/{ctx.env_name}.yaml) -- fix: use its credentials")
    outputs: dict[str, dict[str, str]] = {}
    values: dict[str, str] = {}
    for target, (part, key) in OUTPUTS.items():
        stack_name = ctx.namer.name(part)
        if stack_name not in outputs:
            outputs[stack_name] = stack_outputs(ctx, stack_name)
        if key not in outputs[stack_name]:
            raise StageFailed(f"stack {stack_name} has no output {key} -- fix: deploy the current code (make deploy ENV={ctx.env_name})")
        values[target] = outputs[stack_name][key]
    ctx.targets = Targets(**values)
    return f"{len(values)} outputs of {len(outputs)} stacks in account {ctx.account}"
