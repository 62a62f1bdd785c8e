"""``make smoke ENV=<env>``: after a deploy, push a small simulated fleet's readings through the
whole data path and check each stop: raw zone, OpenSearch delivery, the Glue workflow, a saved
Athena query in the analysts workgroup, and Redshift Spectrum.

The smoke test creates nothing and deletes nothing. Its readings come from devices named
``smoke-<run id>-0001`` ... (a recognisable prefix, so their rows can be told apart and filtered
out of reports); it starts one Glue workflow run, runs one Athena query per event date (Athena
writes its result files to the workgroup's result location, where the bucket's lifecycle expires
them) and one Redshift statement. Physical names come from the stacks' outputs (CloudFormation
DescribeStacks) and the project's naming helper, never from literals.

Modules: ``context`` (options and run state), ``discovery`` (names from stack outputs),
``waiting`` (bounded polling with a progress line), ``stages_*`` (one function per stage),
``runner`` (the table), ``cli``.
"""
