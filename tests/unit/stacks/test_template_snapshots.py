"""Snapshots of every template of every environment, environment-agnostic and deployed with an
account and region (tests.synth.TARGETS): any change to a template fails here until the
snapshot is updated (``make snapshots``) in the same change, so the change a pull request makes to
the deployed infrastructure is in its diff, reviewable line by line.

Templates are normalised in one way only: asset hashes (64 hex characters, in S3 keys and asset
parameters) read ``<asset-hash>``, so that editing a function's code does not rewrite the snapshot
of every stack that deploys it (``make diff`` reports code changes; the byte-for-byte determinism
test holds the hashes themselves).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from tests.synth import TARGETS, Target

ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def normalised(template: dict[str, Any]) -> dict[str, Any]:
    return json.loads(ASSET_HASH.sub("<asset-hash>", json.dumps(template)))


@pytest.fixture
def template_snapshot(snapshot):
    return snapshot.with_defaults(extension_class=JSONSnapshotExtension)


@pytest.mark.parametrize("target", TARGETS, ids=lambda target: target.id)
def test_every_template_matches_its_snapshot(synthesised, template_snapshot, target: Target) -> None:
    app = synthesised(target)
    assert sorted(app.stack_names())
    for stack_name in sorted(app.stack_names()):
        assert normalised(app.template(stack_name)) == template_snapshot(name=stack_name)


def test_normalising_touches_asset_hashes_only() -> None:
    digest = "0123456789abcdef" * 4
    template = {"Resources": {"Fn": {"Properties": {"Code": {"S3Key": f"{digest}.zip"}, "Handler": "index.handler"}}}}
    assert normalised(template) == {
        "Resources": {"Fn": {"Properties": {"Code": {"S3Key": "<asset-hash>.zip"}, "Handler": "index.handler"}}}
    }
    assert normalised({"Description": digest[:63]}) == {"Description": digest[:63]}
