"""The anomaly-detection application's deployable zip: pinned artefacts and a reproducible build."""
