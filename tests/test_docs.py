"""The README documents every setting, command and option, and its two commands are the ones CI runs."""

import re

from textlatent.cli import cli
from textlatent.settings import SETTINGS

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented():
    for s in SETTINGS:
        assert f"TEXTLATENT_{s.name.upper()}" in README, s.name


def _commands(group, prefix=""):
    for name, cmd in group.commands.items():
        full = f"{prefix}{name}"
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, full + " ")
        else:
            yield full, cmd


def test_every_command_and_option_is_documented():
    for name, cmd in _commands(cli):
        assert f"textlatent {name}" in README, name
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt not in ("--help",):
                    assert opt in README, (name, opt)


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = re.search(r"# 2\..*\n(.+)\n", README).group(1).strip()
    assert command in ci
