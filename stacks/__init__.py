"""Deployable units: each stack composes constructs_lib and wires its parts together."""

from stacks.account_baseline_stack import AccountBaselineStack
from stacks.catalog_stack import CatalogStack
from stacks.foundation_stack import FoundationStack
from stacks.ingestion_stack import IngestionStack
from stacks.network_stack import NetworkStack

__all__ = ["AccountBaselineStack", "CatalogStack", "FoundationStack", "IngestionStack", "NetworkStack"]
