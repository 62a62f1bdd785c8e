"""The slow half of the packaging acceptance, run as its own process: ``python -m tests.packaging_check <workdir>``.

A team installs the library with pip into an environment that has nothing of this repository.
This script does exactly that, in ``<workdir>``: it builds the wheel from a clean copy of the
checkout, installs it with its dependencies into a fresh virtual environment (no system site
packages), then synthesises a copy of ``examples/two_pipelines_one_lake``, the consumer app of
``tests/examples/consumer_app`` (through the CDK CLI, without credentials) and a ``RedshiftSql``
with that environment's Python, outside the repository; and the same ``RedshiftSql`` app with the
checkout's library, to compare what each stages. It prints one JSON line with what the test checks
(tests/test_packaging.py), and exits non-zero with the failing step's output otherwise.

tests/conftest.py starts it when the session collects the ``packaging`` test, so its minute of pip
and synthesis runs on the machine's other core while the rest of the suite runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "two_pipelines_one_lake"
#: Another team's composition (tests/examples/consumer_app), synthesised here through the pinned CDK
#: CLI with the wheel's environment, no credentials and no cdk.context.json.
CONSUMER_APP = ROOT / "tests" / "examples" / "consumer_app"
CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"
#: What a checkout holds that is not source: environments, caches, build output.
NOT_SOURCE = (
    ".git", ".venv", "node_modules", "cdk.out", "build", "dist", "*.egg-info", "__pycache__", "*.pyc",
    ".pytest_cache", ".hypothesis",
)

REDSHIFT_SQL_APP = '''
import json, sys
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_secretsmanager as secretsmanager

import constructs_lib
from constructs_lib.warehouse.redshift_sql import HANDLER_DIR, RedshiftSql

LIBRARY = Path(constructs_lib.__file__).parent

app = cdk.App(outdir=sys.argv[1])
stack = cdk.Stack(app, "Sql", env=cdk.Environment(account="111122223333", region="eu-west-1"))
vpc = ec2.Vpc.from_vpc_attributes(
    stack, "Vpc", vpc_id="vpc-1", availability_zones=["eu-west-1a"], isolated_subnet_ids=["subnet-1"]
)
secret = secretsmanager.Secret.from_secret_complete_arn(
    stack, "Secret", "arn:aws:secretsmanager:eu-west-1:111122223333:secret:admin-AbCdEf"
)
RedshiftSql(
    stack, "Sql", cluster_identifier="warehouse", database="analytics", secret=secret,
    create_statements=["SELECT 1"], vpc=vpc, vpc_subnets=ec2.SubnetSelection(subnets=vpc.isolated_subnets),
)
app.synth()
print(json.dumps({
    "library": constructs_lib.__file__,
    "handler_dir": str(HANDLER_DIR),
    "functions": sorted(str(p.relative_to(LIBRARY)) for p in LIBRARY.glob("*/functions/*/*.py")),
}))
'''


class StepFailed(Exception):
    pass


def run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise StepFailed(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def pinned(requirements_file: Path, name: str) -> str:
    (version,) = re.findall(rf"^{re.escape(name)}==(\S+)$", requirements_file.read_text(encoding="utf-8"), flags=re.M)
    return version


def check(workdir: Path) -> dict:
    # The wheel, built as pip builds it from a fresh clone (offline: no build isolation).
    source = workdir / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    wheels = workdir / "wheel"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(wheels), str(source)],
        workdir, dict(os.environ))
    (wheel,) = wheels.glob("*.whl")

    environment = workdir / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(environment)
    python = str(environment / "bin" / "python")
    # Nothing of the checkout or of the test's own environment may leak in. Bytecode is written
    # (whatever PYTHONDONTWRITEBYTECODE says), so the second synth reuses what the first compiled.
    leaks = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in leaks}
    env["PATH"] = f"{environment / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    nag = f"cdk-nag=={pinned(ROOT / 'requirements.txt', 'cdk-nag')}"
    # --no-compile: byte-compiling all of aws-cdk-lib costs about a minute here, and a synth needs a
    # fraction of it. Our own package is then compiled as pip would, so that the installed function
    # folders hold __pycache__ as they do for every user (the assets must leave it out).
    run([python, "-m", "pip", "install", "--quiet", "--no-compile", "--disable-pip-version-check", str(wheel), nag],
        workdir, env)
    run([python, "-m", "pip", "check"], workdir, env)
    package = run([python, "-c", "import constructs_lib, os; print(os.path.dirname(constructs_lib.__file__))"],
                  workdir, env).strip()
    run([python, "-m", "compileall", "-q", package], workdir, env)
    compiled = sorted(str(p.relative_to(package)) for p in Path(package).glob("*/functions/*/__pycache__/*.pyc"))

    # The example, copied out of the repository and run as a user runs it.
    example = workdir / "example"
    shutil.copytree(EXAMPLE, example, ignore=shutil.ignore_patterns("__pycache__", "cdk.out"))
    run([python, "app.py"], example, {**env, "CDK_OUTDIR": str(workdir / "example.out")})

    # The consumer app through the CLI, as the team runs it: no AWS_* variables, an empty HOME.
    consumer = workdir / "consumer"
    shutil.copytree(CONSUMER_APP, consumer, ignore=shutil.ignore_patterns("__pycache__", "cdk.out", "cdk.context.json"))
    (workdir / "home").mkdir(exist_ok=True)
    cli_env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
    cli_env.update(HOME=str(workdir / "home"), AWS_EC2_METADATA_DISABLED="true")
    run([str(CDK_CLI), "synth", "--quiet", "--no-notices", "--no-version-reporting", "--output", "cdk.out"], consumer, cli_env)
    consumer_manifest = json.loads((consumer / "cdk.out" / "manifest.json").read_text(encoding="utf-8"))

    script = workdir / "redshift_sql_app.py"
    script.write_text(REDSHIFT_SQL_APP)
    redshift_sql = json.loads(run([python, str(script), str(workdir / "sql.out")], workdir, env).splitlines()[-1])
    # The same app with the checkout's library and environment, for what it stages.
    checkout = {**os.environ, "PYTHONPATH": str(ROOT)}
    in_checkout = json.loads(run([sys.executable, str(script), str(workdir / "sql-checkout.out")], ROOT, checkout).splitlines()[-1])
    return {
        "workdir": str(workdir),
        "wheel": str(wheel),
        "compiled_handlers": compiled,
        "consumer_app": {
            "outdir": str(consumer / "cdk.out"),
            "missing_context": [m["key"] for m in consumer_manifest.get("missing", [])],
            "context_file": (consumer / "cdk.context.json").exists(),
        },
        "redshift_sql": redshift_sql,
        "redshift_sql_checkout": in_checkout,
    }


def main(argv: list[str]) -> int:
    (workdir,) = argv
    try:
        print(json.dumps(check(Path(workdir))))
    except StepFailed as failure:
        print(failure, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
