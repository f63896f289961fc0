"""The README documents every command and starts with the two set-up commands."""

from __future__ import annotations

import re
from pathlib import Path

import click

from monitor.cli import cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def command_names(group: click.Group, prefix: str = "monitor") -> list[str]:
    names = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            names += command_names(command, f"{prefix} {name}")
        else:
            names.append(f"{prefix} {name}")
    return names


def test_every_command_is_in_the_readme() -> None:
    names = command_names(cli)
    assert "monitor feeds resume" in names
    for name in names:
        assert f"`{name}" in README, f"{name} is not documented"


def test_setup_commands_come_first_and_ci_runs_the_test_one() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, flags=re.DOTALL)
    install, test = blocks[0], blocks[1]
    assert "pip install ." in install and "monitor run" in install
    assert "[test]" in test and "pytest" in test
    assert test in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_settings_key_is_documented() -> None:
    from monitor.config import Feed, Settings

    for key in [*Settings.model_fields, *Feed.model_fields]:
        assert re.search(rf"^\s+(- )?{key}:", README, flags=re.MULTILINE), key
