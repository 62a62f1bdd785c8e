"""Streaming applications for Amazon Managed Service for Apache Flink, one package per application.

Each application's pure logic (parsing, windowing, scoring) is importable without PyFlink so that
it is tested on its own; only its ``pipeline``/``connectors``/``job`` modules import pyflink.
"""
