"""CloudWatch Logs retention as CDK's enum, from the number of days the config holds."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

#: The retention periods CloudWatch accepts, in the order of ``logs.RetentionDays`` (whose
#: Python members carry names, not day counts). stacks may not import config, which states the
#: same list for validation; tests/unit/stacks/test_log_retention.py keeps the two equal and
#: pins every entry of the mapping against the synthesised RetentionInDays.
RETENTION_PERIODS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
_BY_DAYS = dict(zip(RETENTION_PERIODS, [member for member in logs.RetentionDays if member.name != "INFINITE"], strict=True))


def retention_days(days: int) -> logs.RetentionDays:
    try:
        return _BY_DAYS[days]
    except KeyError:
        raise ValueError(f"{days} is not a CloudWatch Logs retention period; allowed: {', '.join(map(str, RETENTION_PERIODS))}") from None
