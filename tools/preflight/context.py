"""What every check gets: the plan, a client factory, who is calling, and a few shared lookups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from tools.aws_env import ClientFactory
from tools.preflight.bootstrap import BootstrapRequirement
from tools.preflight.plan import DeployPlan


@dataclass(frozen=True)
class Caller:
    """STS GetCallerIdentity."""

    account: str
    arn: str

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1]


@dataclass
class PreflightContext:
    plan: DeployPlan
    clients: ClientFactory
    caller: Caller
    #: Returns the bootstrap requirement (synthesising if need be); raises AssemblyError.
    bootstrap_requirement: Callable[[], BootstrapRequirement]
    toolkit_stack: str = "CDKToolkit"
    _clients: dict[str, Any] = field(default_factory=dict)
    _stacks: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.clients(service)
        return self._clients[service]

    def stack(self, name: str) -> dict[str, Any] | None:
        """CloudFormation DescribeStacks of ``name``, or None when it does not exist (cached)."""
        if name not in self._stacks:
            try:
                self._stacks[name] = self.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
            except ClientError as error:
                if error.response["Error"]["Code"] == "ValidationError" and "does not exist" in str(error):
                    self._stacks[name] = None
                else:
                    raise
        return self._stacks[name]

    def deployed(self, part: str) -> bool:
        """Whether the environment's ``<project>-<env>-<part>`` stack exists already (its
        resources then count in the account's usage already)."""
        stack = self.stack(self.plan.stack_name(part))
        return stack is not None and not stack["StackStatus"].startswith("DELETE")
