"""Tests of the operator scripts in scripts/ (no AWS calls: botocore Stubber only)."""
