"""The wire format: what a reading is, the bytes it travels as, and the topic it is published on.

A reading is whatever :mod:`telemetry_contract` (in ``lambda_src/``) builds: the same module the
Firehose transform validates with and Glue ships, so the simulator cannot send anything the
pipeline would reject. This module is the one place the simulator imports it from, which is why
it also makes the import possible (below). The encoding and the topic are kept here, apart from
the senders, because they are part of that contract too: ``tools/pipeline`` encodes its fleet
with :func:`encode_reading`, and ``tests/test_architecture.py`` checks :data:`TOPIC_PREFIX`
against the IoT rule's copy.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# lambda_src/ is the Lambda asset root: it holds telemetry_contract.py, the one shared definition
# of a reading (deployed with the Firehose transform, shipped to Glue). `python -m
# scripts.simulate_devices` from the repository root only puts the root on sys.path, so the asset
# root is added explicitly before the contract is imported.
_LAMBDA_SRC = str(Path(__file__).resolve().parents[2] / "lambda_src")
if _LAMBDA_SRC not in sys.path:
    sys.path.insert(0, _LAMBDA_SRC)

import telemetry_contract  # noqa: E402,F401 -- used by .fleet (build_reading) and re-exported by the package

DEFAULT_TOPIC_PREFIX = "telemetry"

#: Same rule as ``ingestion.topic_prefix`` in config/model.py: one topic level, so the IoT rule
#: finds the device id at ``topic(2)``.
TOPIC_PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


def topic_for(prefix: str, device_id: str) -> str:
    """The MQTT topic a device publishes on: ``<prefix>/<device_id>/telemetry``."""
    return f"{prefix}/{device_id}/telemetry"


def encode_reading(reading: Mapping[str, Any]) -> bytes:
    """The reading as published: compact UTF-8 JSON (the same bytes for MQTT and Kinesis)."""
    return json.dumps(reading, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
