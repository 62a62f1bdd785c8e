"""The Firehose transform's code and layer, shared by the two delivery streams that run it.

The raw-zone delivery (ingestion stack) and the OpenSearch delivery (search stack) run the same
package, ``lambda_src/firehose_transform``, with different entry points, so that OpenSearch sees
the same normalised readings as the raw zone. Both take their code and layer from here, so the two
functions cannot drift apart; the asset is the same (one upload, one hash).
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

#: The Lambda asset root: the transform package and the shared telemetry contract.
LAMBDA_SRC = Path(__file__).resolve().parent.parent / "lambda_src"
#: Entry points: JSON lines with partition keys for S3, one document per record for OpenSearch.
RAW_ZONE_HANDLER = "firehose_transform.handler.lambda_handler"
DOCUMENT_HANDLER = "firehose_transform.handler.document_handler"
#: The CloudWatch namespace of both transforms' own metrics (RecordsFailed), which their alarms watch.
METRICS_NAMESPACE = "AnalyticsPlatform/Ingestion"
#: The asset is lambda_src/ (the handler imports telemetry_contract.py from there) minus what the
#: function never runs. lambda_src/ holds only the transform and the contract (the library's
#: functions live in constructs_lib/<domain>/functions/); a function added here later should be excluded
#: here, so that a change to it neither bloats nor redeploys the transform.
_ASSET_EXCLUDES = [
    "**/__pycache__", "**/*.pyc", "**/README.md", "**/requirements.txt", "**/.pytest_cache", "**/.hypothesis",
]
#: AWS's account that publishes the Powertools for AWS Lambda layers in every commercial region.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python314-x86_64"


def transform_code() -> lambda_.Code:
    return lambda_.Code.from_asset(str(LAMBDA_SRC), exclude=_ASSET_EXCLUDES)


def powertools_layer(scope: Construct, construct_id: str, version: int) -> lambda_.ILayerVersion:
    """AWS's public Powertools for AWS Lambda (Python) v3 layer for Python 3.14, ``version`` of it."""
    stack = cdk.Stack.of(scope)
    arn = stack.format_arn(
        service="lambda",
        account=POWERTOOLS_LAYER_ACCOUNT,
        resource="layer",
        resource_name=f"{POWERTOOLS_LAYER_NAME}:{version}",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
    return lambda_.LayerVersion.from_layer_version_arn(scope, construct_id, arn)
