"""From devices to the raw zone: the Kinesis stream, the IoT topic rule that feeds it, and the
Firehose delivery into the lake (``TelemetryStream``, ``IotTelemetryRule``, ``RawZoneDelivery``)."""
