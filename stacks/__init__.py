"""Deployable units: each stack composes constructs_lib and wires its parts together."""

from stacks.account_baseline_stack import AccountBaselineStack
from stacks.catalog_stack import CatalogStack
from stacks.emr_stack import EmrStack
from stacks.foundation_stack import FoundationStack
from stacks.ingestion_stack import IngestionStack
from stacks.network_stack import NetworkStack
from stacks.search_stack import SearchStack
from stacks.streaming_stack import StreamingStack
from stacks.warehouse_stack import WarehouseStack

__all__ = ["AccountBaselineStack", "CatalogStack", "EmrStack", "FoundationStack", "IngestionStack", "NetworkStack", "SearchStack", "StreamingStack", "WarehouseStack"]
