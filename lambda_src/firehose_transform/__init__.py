"""Firehose data transformation for device telemetry.

``transform`` holds the pure logic (validate and normalise each record with the telemetry
contract, keep the response under Lambda's size cap); ``handler`` is the thin Lambda entry point
(``firehose_transform.handler.lambda_handler``) that adds Powertools logging and metrics.
"""
