"""Tests of scripts/simulate_devices/, one file per module of the package (no AWS calls)."""
