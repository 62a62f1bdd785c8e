"""tools/left_behind.py: what `cdk destroy` leaves behind, read from templates."""

from __future__ import annotations

from tools.left_behind import REMOVAL, left_behind, render_left_behind


def _template(**resources: tuple[str, str | None]) -> dict:
    return {
        "Resources": {
            logical_id: {"Type": kind, **({"DeletionPolicy": policy} if policy else {})}
            for logical_id, (kind, policy) in resources.items()
        }
    }


def test_only_resources_that_outlive_the_stack_are_listed() -> None:
    templates = {
        "b": _template(Raw=("AWS::S3::Bucket", "Retain"), Key=("AWS::KMS::Key", "RetainExceptOnCreate"), Topic=("AWS::SNS::Topic", None)),
        "a": _template(Gone=("AWS::S3::Bucket", "Delete"), Db=("AWS::RDS::DBInstance", "Snapshot")),
        "c": _template(Fn=("AWS::Lambda::Function", None)),
    }
    kept = left_behind(templates)
    assert list(kept) == ["a", "b"]
    assert dict(kept["b"]) == {"AWS::S3::Bucket": 1, "AWS::KMS::Key": 1}
    assert dict(kept["a"]) == {"AWS::RDS::DBInstance (final snapshot)": 1}


def test_the_table_names_each_stack_and_how_to_remove_each_kind() -> None:
    text = render_left_behind(
        {"prod": {"s": _template(A=("AWS::S3::Bucket", "Retain"), B=("AWS::S3::Bucket", "Retain"))}, "dev": {"s": _template(A=("AWS::S3::Bucket", "Delete"))}}
    )
    assert "#### prod\n\n| stack | left behind by `cdk destroy` |\n|---|---|\n| `s` | 2 × S3 Bucket |" in text
    assert "#### dev\n\nNothing: every resource is deleted with its stack." in text
    assert f"| S3 Bucket | {REMOVAL['AWS::S3::Bucket']} |" in text


def test_every_kind_the_app_leaves_behind_has_removal_steps(synthesised) -> None:
    kept = left_behind(synthesised("prod").templates())
    kinds = {kind for types in kept.values() for kind in types}
    assert kinds and kinds <= set(REMOVAL), kinds - set(REMOVAL)
