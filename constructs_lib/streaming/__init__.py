"""Streaming analytics on the telemetry stream: a reader's own enhanced fan-out consumer
(``EnhancedFanOutConsumer``), a PyFlink application on Amazon Managed Service for Apache Flink
(``PyFlinkApplication``), and a Direct PUT delivery of JSON lines into the lake with the Glue table
over it (``JsonLinesDelivery``), where such an application writes what it finds."""
