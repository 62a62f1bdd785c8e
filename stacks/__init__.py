"""Deployable units: each stack composes constructs_lib and wires its parts together."""

from stacks.account_baseline_stack import AccountBaselineStack
from stacks.foundation_stack import FoundationStack
from stacks.ingestion_stack import IngestionStack

__all__ = ["AccountBaselineStack", "FoundationStack", "IngestionStack"]
