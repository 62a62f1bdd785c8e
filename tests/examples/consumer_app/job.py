"""The team's own Glue job script, deployed with glue.Code.from_asset (a CDK file asset)."""
