"""Benchmarks (``make bench``): measured, reported, never asserted in the test suite."""
