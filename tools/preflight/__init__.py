"""``make preflight ENV=<env>``: read-only AWS checks of what a template cannot prove, before a deploy.

A synthesised template says what will be created, not whether the account can take it: whether
the CDK bootstrap stack is there and new enough, whether the region offers the configured engine
versions and instance types, whether the roles the config names exist, whether a quota would stop
the deploy half-way. Each check is a small function returning a :class:`CheckResult`; the runner
prints one line per check and exits non-zero on any FAIL. Every AWS call is a read.

Modules: ``results`` (the result type), ``plan`` (what the environment will deploy, from the
typed config and the project's own constants), ``bootstrap`` (the bootstrap version the
synthesised templates require), ``checks_*`` (the checks), ``runner``, ``cli``.
"""
