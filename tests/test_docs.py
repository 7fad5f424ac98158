"""Every ``lsm-edge ...`` command line in the README and the docs parses with the current CLI (options
exist, required ones are given, arguments counted), so the docs cannot drift from the commands."""

import re
import shlex
from pathlib import Path

import click
import pytest

from lsm_edge.cli import main

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def command_lines(text: str) -> list[str]:
    """``lsm-edge`` command lines inside fenced code blocks, continuation lines joined, comments cut."""
    lines = []
    for block in re.findall(r"```(?:bash|sh|console)?\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line.startswith("lsm-edge "):
                lines.append(shlex.split(line, comments=True))
    return lines


def check(argv: list[str]) -> None:
    """Resolve the verb and parse its options as click does, without converting values (paths in the docs
    need not exist here)."""
    cmd, args, ctx = main, argv[1:], click.Context(main, info_name="lsm-edge")
    while isinstance(cmd, click.Group):
        opts, args, _ = cmd.make_parser(ctx).parse_args(args)
        if not args:
            raise AssertionError(f"{shlex.join(argv)}: no verb")
        sub = cmd.get_command(ctx, args[0])
        if sub is None:
            raise AssertionError(f"{shlex.join(argv)}: no command {args[0]!r}")
        cmd, args, ctx = sub, args[1:], click.Context(sub, info_name=args[0], parent=ctx)
    opts, rest, _ = cmd.make_parser(ctx).parse_args(args)
    if opts.get("help"):
        return
    for p in cmd.params:
        if p.required and p.name not in opts:
            raise AssertionError(f"{shlex.join(argv)}: {p.name} is required")
    assert not rest, f"{shlex.join(argv)}: unexpected {rest}"


def test_docs_exist_and_hold_commands():
    found = {p.name: command_lines(p.read_text()) for p in PAGES}
    assert len(PAGES) >= 10 and sum(map(len, found.values())) >= 30, {k: len(v) for k, v in found.items()}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_command_line_parses(page):
    for argv in command_lines(page.read_text()):
        check(argv)


def test_the_checker_catches_drift():
    for bad in ("lsm-edge train --data d --out o --no-such-option 1", "lsm-edge trian --data d",
                "lsm-edge train --data d", "lsm-edge convert"):
        with pytest.raises((AssertionError, click.UsageError)):
            check(shlex.split(bad))
    check(shlex.split("lsm-edge train --recipe train/micro.toml --data d --out o --steps 10"))


def test_the_docs_site_builds_without_warnings(tmp_path):
    """`make docs`: MkDocs in strict mode (any warning fails), the API reference generated from the docstrings."""
    import os
    import subprocess
    import sys

    pytest.importorskip("mkdocs")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                       cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "WARNING" not in r.stderr, r.stderr[-3000:]
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    assert "data_import" in api and "Imputer" in api and "evaluate_real" in api


def test_every_benchmark_script_is_listed_with_its_question():
    listed = (ROOT / "benchmarks" / "README.md").read_text()
    scripts = sorted(p.name for p in (ROOT / "benchmarks").iterdir() if p.suffix in (".py", ".sh"))
    missing = [s for s in scripts if f"`{s}`" not in listed]
    assert scripts and not missing, f"benchmarks/README.md does not list {missing}"
    for s in scripts:
        head = (ROOT / "benchmarks" / s).read_text().splitlines()[:3]
        assert any(len(line.strip("#\"' ")) > 20 for line in head), f"{s}: no question in its first lines"
