"""What every domain shares: the alarm topic (``AlarmTopic``) and how alarms reach it, resource
naming, prop validation, KMS keys, removal policies, encrypted log groups and dead-letter queues,
cdk-nag acknowledgments, the Firehose transform function both deliveries run, and the deploy-time
function helper with the modules every such function shares (``functions/shared/``).

Nothing here imports another domain of the library.
"""
