"""The raw-zone delivery stream's settings, read from the synthesised dev template.

The emulation must write what the deployed stream would write, so nothing here restates a
setting: the prefixes, compression, buffering hints, the Lambda processor's buffer and retries,
and the transform's handler and environment all come from the ``AWS::KinesisFirehose::DeliveryStream``
whose S3 prefix is partitioned by the transform (``!{partitionKeyFromLambda:...}``) and from the
``AWS::Lambda::Function`` its processor names.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

DELIVERY_STREAM = "AWS::KinesisFirehose::DeliveryStream"
FUNCTION = "AWS::Lambda::Function"
PARTITION_KEY_MARK = "!{partitionKeyFromLambda:"


@dataclass(frozen=True)
class DeliveryConfig:
    stack_name: str
    logical_id: str
    prefix: str
    error_prefix: str
    compression: str
    buffer_size_mib: float
    buffer_interval_seconds: float
    dynamic_partitioning: bool
    processor_buffer_size_mib: float
    processor_buffer_interval_seconds: float
    processor_retries: int
    handler: str
    function_logical_id: str
    function_memory_mib: int
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def data_root(self) -> str:
        """The prefix's static part (``telemetry/``): where the job reads raw files."""
        static = self.prefix.split("!{", 1)[0]
        return static[: static.rfind("/") + 1]

    @property
    def stream_name(self) -> str:
        """What CloudFormation would name the stream (it sets no name): stack-logicalId."""
        return f"{self.stack_name}-{self.logical_id}"


def _processor_parameters(destination: dict[str, Any]) -> tuple[dict[str, Any], str]:
    processors = destination.get("ProcessingConfiguration", {}).get("Processors", [])
    lambdas = [p for p in processors if p.get("Type") == "Lambda"]
    if len(lambdas) != 1:
        raise ValueError(f"expected one Lambda processor, found {len(lambdas)}")
    parameters = {p["ParameterName"]: p["ParameterValue"] for p in lambdas[0]["Parameters"]}
    function_id = parameters["LambdaArn"]["Fn::GetAtt"][0]
    return parameters, function_id


def from_templates(templates: dict[str, dict[str, Any]]) -> DeliveryConfig:
    """The config of the one delivery stream partitioned by the transform, from ``{stack: template}``."""
    found = []
    for stack_name, template in templates.items():
        resources = template.get("Resources", {})
        for logical_id, resource in resources.items():
            destination = resource.get("Properties", {}).get("ExtendedS3DestinationConfiguration", {})
            if resource["Type"] == DELIVERY_STREAM and PARTITION_KEY_MARK in destination.get("Prefix", ""):
                found.append((stack_name, logical_id, destination, resources))
    if len(found) != 1:
        raise ValueError(f"expected one delivery stream partitioned by the transform, found {len(found)}")
    stack_name, logical_id, destination, resources = found[0]
    parameters, function_id = _processor_parameters(destination)
    function = resources[function_id]["Properties"]
    hints = destination.get("BufferingHints", {})
    return DeliveryConfig(
        stack_name=stack_name,
        logical_id=logical_id,
        prefix=destination["Prefix"],
        error_prefix=destination["ErrorOutputPrefix"],
        compression=destination.get("CompressionFormat", "UNCOMPRESSED"),
        # Firehose's documented defaults apply where the template leaves a hint out.
        buffer_size_mib=float(hints.get("SizeInMBs", 5)),
        buffer_interval_seconds=float(hints.get("IntervalInSeconds", 300)),
        dynamic_partitioning=bool(destination.get("DynamicPartitioningConfiguration", {}).get("Enabled", False)),
        processor_buffer_size_mib=float(parameters.get("BufferSizeInMBs", 1)),
        processor_buffer_interval_seconds=float(parameters.get("BufferIntervalInSeconds", 60)),
        processor_retries=int(parameters.get("NumberOfRetries", 3)),
        handler=function["Handler"],
        function_logical_id=function_id,
        function_memory_mib=int(function.get("MemorySize", 128)),
        environment=dict(function.get("Environment", {}).get("Variables", {})),
    )


def synthesise_dev(log_path: Path | None = None) -> DeliveryConfig:
    """Synthesise dev (as tests/synth.py does, with cdk.json's context) in a child process and
    read the config. A child, because the CDK's node runtime keeps writing warnings to the
    process's streams until it exits; they go to ``log_path``."""
    log = log_path.open("wb") if log_path is not None else subprocess.DEVNULL
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tools.pipeline.delivery_config"], cwd=ROOT, stdout=subprocess.PIPE, stderr=log, check=False
        )
    finally:
        if log_path is not None:
            log.close()
    lines = [line for line in done.stdout.decode(errors="replace").splitlines() if line.startswith(_MARK)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"synthesising dev failed (exit {done.returncode}); see {log_path or 'its output'}")
    return DeliveryConfig(**json.loads(lines[-1][len(_MARK):]))


_MARK = "DELIVERY_CONFIG="


def main() -> None:
    from tests.synth import synthesise

    with tempfile.TemporaryDirectory(prefix="pipeline-synth-") as outdir:
        config = from_templates(synthesise("dev", Path(outdir)).templates())
    print(_MARK + json.dumps(dataclasses.asdict(config)), flush=True)


if __name__ == "__main__":
    main()
