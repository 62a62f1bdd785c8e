"""Real-time anomaly detection on the telemetry stream (issue 20): a PyFlink application for
Amazon Managed Service for Apache Flink. See README.md beside this file.

Modules without PyFlink (tested on their own): ``properties``, ``readings``, ``scoring``,
``windows``, ``notifications``, ``records``. The PyFlink wiring: ``pipeline`` (the dataflow, with
injectable sources and sinks), ``connectors`` (Kinesis EFO source, Firehose and Kinesis sinks),
``job`` (the entry point ``main.py`` calls) and ``local_run`` (a bounded run on a mini-cluster).

Inside the deployable zip the package is a top-level ``anomaly_detection``; in this repository it
is ``flink_apps.anomaly_detection``. Hence relative imports between its modules.
"""
