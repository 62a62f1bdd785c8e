"""The compliance packs every stack of the app is checked against at synth.

app.py and the canary test both call ``add_compliance_checks`` so that the test proves the very
set of packs the app runs.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NIST80053R5Checks,
    PCIDSS321Checks,
    ServerlessChecks,
)

COMPLIANCE_PACKS = (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NIST80053R5Checks,
    PCIDSS321Checks,
    ServerlessChecks,
)


def add_compliance_checks(app: cdk.App) -> None:
    """Register the packs; synth then fails with ValidationFailed on any unacknowledged finding."""
    cdk.Validations.of(app).add_plugins(*(pack(app) for pack in COMPLIANCE_PACKS))
