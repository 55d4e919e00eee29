"""Docs that tests check: every command and option has help, and the README names each command."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from feedwright.cli import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
COMMANDS = sorted(cli.commands)


def test_the_core_commands_exist():
    assert {"build", "check", "feeds"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help(name):
    command = cli.commands[name]
    assert command.help and command.help.strip(), f"`feedwright {name}` has no docstring"
    assert command.get_short_help_str(limit=80).strip()
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: cli {name} ") or result.stdout.startswith(
        f"Usage: feedwright {name} "
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_has_help(name):
    missing = [
        param.name
        for param in cli.commands[name].params
        if isinstance(param, click.Option) and not (param.help and param.help.strip())
    ]
    assert missing == [], f"`feedwright {name}` options without help: {missing}"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_is_in_the_readme(name):
    assert re.search(rf"feedwright {re.escape(name)}\b", README), (
        f"README.md does not mention `feedwright {name}`"
    )


def test_the_group_help_lists_every_command():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    listed = re.findall(r"^  (\S+)", result.stdout.split("Commands:")[1], re.M)
    assert sorted(listed) == COMMANDS


def test_no_shipped_file_points_at_the_invented_project_home():
    """The project has no public home yet: no metadata, unit file, doc or committed feed
    may name one (an invented ``github.com/feedwright/feedwright`` sat in
    ``[project.urls]``, so in every Atom ``<generator>``, and in the systemd unit; #19)."""
    root = Path(__file__).resolve().parent.parent
    shipped = [root / name for name in ("pyproject.toml", "README.md", "CHANGES.md")]
    for folder in ("src", "docs", "deploy", "example", "feeds", "benchmarks"):
        shipped += [p for p in (root / folder).rglob("*") if p.is_file()]
    found = [
        p.relative_to(root).as_posix()
        for p in shipped
        if not {".feedwright", "__pycache__"} & set(p.parts)
        and not p.parent.name.endswith(".egg-info")
        and b"github.com/feedwright" in p.read_bytes()
    ]
    assert found == []
