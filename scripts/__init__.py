"""Operator scripts run from the repository root (``python -m scripts.<name>``), not deployed.

``scripts.simulate_devices`` (a package; see its ``__init__``) publishes simulated device telemetry
to a deployed environment.
Their runtime dependencies are pinned in ``scripts/requirements.txt``.
"""
