"""Deployable units: each stack composes constructs_lib and wires its parts together."""

from stacks.account_baseline_stack import AccountBaselineStack
from stacks.foundation_stack import FoundationStack

__all__ = ["AccountBaselineStack", "FoundationStack"]
