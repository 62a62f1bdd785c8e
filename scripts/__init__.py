"""Operator scripts run from the repository root (``python -m scripts.<name>``), not deployed.

``scripts.simulate_devices`` publishes simulated device telemetry to a deployed environment.
Their runtime dependencies are pinned in ``scripts/requirements.txt``.
"""
