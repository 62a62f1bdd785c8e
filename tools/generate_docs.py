"""``make docs``: rewrite the README's generated sections from the code that they describe.

Each generated section sits between ``<!-- BEGIN GENERATED: <name> -->`` and
``<!-- END GENERATED: <name> -->`` in README.md and is produced by one function of this module
from the same config and code the app deploys, so the README cannot drift from the templates:
``tests/test_docs.py`` fails when a section is stale (``--check`` does the same from the shell).

- ``lake-permissions``: who may do what in the lake, per environment (``stacks.lake_permissions``);
- ``architecture``: the stacks of the default environment and what flows between them, drawn from
  its synthesised cloud assembly (``tools/architecture.py``);
- ``left-behind``: what ``cdk destroy`` leaves behind in each environment, from its synthesised
  templates (``tools/left_behind.py``).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def lake_permissions_section() -> str:
    """One table per environment: every Lake Formation grant the app creates there."""
    from config import available_environments, load_config
    from constructs_lib import ResourceNamer
    from stacks.lake_governance import environment_lake_grants
    from stacks.lake_permissions import render_permissions_table, render_persona_legend

    tables = [render_persona_legend()]
    for env_name in available_environments():
        env = load_config(env_name).environment
        grants = environment_lake_grants(
            ResourceNamer(project=env.project, stage=env.name), env.governance, migration_job=env.catalog.migrate_from_parquet
        )
        tables.append(render_permissions_table(env_name, grants))
    return "\n".join(tables)


#: The environment the diagram shows: every environment has the same stacks and flows; dev's VPC
#: spans two AZs (so two data subnets cross to the stacks that use them).
DIAGRAM_ENVIRONMENT = "dev"


def architecture_section(assembly_dir: Path | None = None) -> str:
    """The Mermaid diagram of ``assembly_dir`` (default: the default environment, synthesised now)."""
    from tools.architecture import assembly_inputs, mermaid

    if assembly_dir is None:
        from app import build_app, cli_context

        with tempfile.TemporaryDirectory(prefix="docs-cdk-out-") as outdir:
            build_app(cli_context(DIAGRAM_ENVIRONMENT), outdir=outdir).synth()
            return mermaid(*assembly_inputs(Path(outdir)))
    return mermaid(*assembly_inputs(assembly_dir))


def left_behind_section(assembly_dirs: dict[str, Path] | None = None) -> str:
    """What ``cdk destroy`` leaves behind in each environment, from its synthesised templates
    (``assembly_dirs``: environment name -> cloud assembly; default: synthesised now)."""
    import json

    from config import available_environments
    from tools.left_behind import render_left_behind

    def templates(outdir: Path) -> dict[str, dict]:
        return {path.name.removesuffix(".template.json"): json.loads(path.read_text()) for path in sorted(outdir.glob("*.template.json"))}

    if assembly_dirs is not None:
        return render_left_behind({env: templates(outdir) for env, outdir in assembly_dirs.items()})
    from app import build_app, cli_context

    environments = {}
    for env_name in available_environments():
        with tempfile.TemporaryDirectory(prefix="docs-cdk-out-") as outdir:
            build_app(cli_context(env_name), outdir=outdir).synth()
            environments[env_name] = templates(Path(outdir))
    return render_left_behind(environments)


SECTIONS: dict[str, Callable[[], str]] = {
    "lake-permissions": lake_permissions_section,
    "architecture": architecture_section,
    "left-behind": left_behind_section,
}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- BEGIN GENERATED: {re.escape(name)} -->\n)(.*?)(<!-- END GENERATED: {re.escape(name)} -->)", re.S
    )


def render(text: str, sections: dict[str, Callable[[], str]] = SECTIONS) -> str:
    """``text`` with every generated section replaced by its current content."""
    for name, produce in sections.items():
        pattern = _pattern(name)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no generated section {name!r} (<!-- BEGIN GENERATED: {name} --> ... END)")
        content = produce()
        text = pattern.sub(lambda match: match.group(1) + content + match.group(3), text)
    return text


def stale_sections(text: str, sections: dict[str, Callable[[], str]] = SECTIONS) -> list[str]:
    """Names of the generated sections of ``text`` that differ from what the code produces now."""
    current = render(text, sections)
    return [name for name in sections if _pattern(name).search(text).group(2) != _pattern(name).search(current).group(2)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated section is stale; change nothing")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    if args.check:
        stale = stale_sections(text)
        if stale:
            print(f"README.md is stale in: {', '.join(stale)}. Run `make docs`.", file=sys.stderr)
            return 1
        return 0
    README.write_text(render(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
