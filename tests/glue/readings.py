"""Raw lines exactly as the Firehose transform writes them, built with the telemetry contract."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from telemetry_contract import build_reading, parse_reading

T0 = dt.datetime(2026, 11, 23, 8, 15, 2, 125_000, tzinfo=dt.timezone.utc)
# The transform's encoder: compact, ASCII, no NaN.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def normalised(
    device_id: str = "pump-0042",
    event_time: dt.datetime = T0,
    *,
    metrics: dict[str, float] | None = None,
    attributes: dict[str, str] | None = None,
    ingested_after: dt.timedelta | None = dt.timedelta(milliseconds=875),
) -> dict[str, Any]:
    """A normalised reading (what lands in the raw zone); ``ingested_after=None``: no ingested_at."""
    reading = build_reading(
        device_id,
        event_time,
        metrics if metrics is not None else {"temperature_c": 21.5, "vibration_mm_s": 0.8},
        attributes if attributes is not None else {"site": "hamburg"},
    )
    arrival = event_time + ingested_after if ingested_after is not None else None
    return parse_reading(reading, arrival_time=arrival)


def line(record: Any) -> str:
    """One raw line (without its newline), serialised as the transform does."""
    return _ENCODER.encode(record)


def write_raw(root: Path, name: str, lines: Iterable[str], *, event_date: str, event_hour: str, gzipped: bool = True) -> Path:
    """A raw object under Firehose's layout: telemetry/event_date=.../event_hour=.../name."""
    folder = root / "telemetry" / f"event_date={event_date}" / f"event_hour={event_hour}"
    folder.mkdir(parents=True, exist_ok=True)
    data = "".join(f"{text}\n" for text in lines).encode("utf-8")
    path = folder / name
    path.write_bytes(gzip.compress(data) if gzipped else data)
    return path
