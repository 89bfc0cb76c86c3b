"""Small command-line texts from a user walk (walk 22 #13): a hint where a string is another
space's, where a global option follows the command, a help text that cites a README heading that
exists, and the README's sentence on what a usage error prints."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main
from typer.testing import CliRunner

from gennas.cli.app import app

MBV3 = "k3e3-k5e4|k3e3-k3e3|k7e4-k5e6|k5e4-k5e6-k7e6-k7e3|k5e4-k5e6-k7e6"
README = Path(__file__).resolve().parents[1] / "README.md"


def test_show_of_an_mbv3_string_without_space_says_add_space_mbv3(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    shown = CliRunner().invoke(app, ["show", MBV3])
    assert shown.exit_code == 2 and "add --space mbv3" in shown.stderr, shown.output
    assert len(shown.stderr.strip().splitlines()) == 1
    nonsense = CliRunner().invoke(app, ["show", "k3e3-k5e4|x"])
    assert nonsense.exit_code == 2 and "--space" not in nonsense.stderr  # parses nowhere: no hint


def test_a_global_option_after_the_command_says_it_goes_before(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    late = CliRunner().invoke(app, ["spaces", "--threads", "2"], prog_name="gennas")
    text = " ".join(late.output.replace("\u2502", " ").split())  # typer's box, its sides taken out
    assert late.exit_code == 2 and "--threads is a global option: it goes before the command, gennas --threads N " \
        "spaces ...)" in text, late.output
    other = CliRunner().invoke(app, ["spaces", "--foo"])
    assert other.exit_code == 2 and "global option" not in other.output


def test_the_threads_help_cites_a_readme_heading():
    threads = next(p for p in typer.main.get_command(app).params if p.name == "threads")
    cited = re.search(r'README, section "([^"]+)"', threads.help).group(1)
    assert f"## {cited}\n" in README.read_text()


def test_the_readme_says_what_a_usage_error_prints(tmp_path, monkeypatch):
    monkeypatch.setenv("GENNAS_HOME", str(tmp_path))
    bad = CliRunner().invoke(app, ["design", "-n", "abc"])
    assert bad.exit_code == 2 and len(bad.output.strip().splitlines()) > 1  # typer's usage lines and box
    text = " ".join(README.read_text().split())
    assert "cannot parse (`-n abc`" in text and "the usage line" in text
