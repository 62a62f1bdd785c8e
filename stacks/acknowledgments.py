"""The app's own cdk-nag acknowledgments, in one place, each with its finding id and reason.

Fix a finding first; acknowledge only what is a deliberate, explained choice. Ids are exact
rule ids (``HIPAA.Security-S3BucketReplicationEnabled``); cdk-nag 3 matches each finding
individually, so one acknowledgment never hides another rule's finding. Findings that are
inherent to a construct's design are acknowledged inside that construct, next to the code
that causes them (for example the SSE-S3 access-log bucket in DataLakeStorage).
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct

from constructs_lib import DataLakeStorage

REPLICATION_RULES = (
    "HIPAA.Security-S3BucketReplicationEnabled",
    "NIST.800.53.R5-S3BucketReplicationEnabled",
    "PCI.DSS.321-S3BucketReplicationEnabled",
)

NO_CROSS_REGION_REPLICATION = (
    "Cross-region replication is not part of this platform's recovery design: buckets are "
    "single-region by decision (data residency in the configured region). Objects are stored "
    "across at least three AZs by S3; versioning, noncurrent-version retention and the Retain "
    "removal policy (enforced in prod) protect against overwrite and deletion. Revisit if a "
    "regional-outage RPO is ever required."
)


def acknowledge(construct: IConstruct, reason: str, *rule_ids: str) -> None:
    """Acknowledge each of ``rule_ids`` on ``construct`` (and its children) for ``reason``."""
    cdk.Validations.of(construct).acknowledge(
        *(cdk.Acknowledgment(id=rule_id, reason=reason) for rule_id in rule_ids)
    )


def acknowledge_storage_findings(storage: DataLakeStorage) -> None:
    """The data lake buckets are deliberately not replicated to another region."""
    acknowledge(storage, NO_CROSS_REGION_REPLICATION, *REPLICATION_RULES)
