"""Commands gennas prints for the user to paste quote every value in them (walk 38 #3): a study name
or storage path with a space or a ';', a task or space file recorded in a colleague's study, pasted,
ran another command."""

from __future__ import annotations

import shlex

import optuna
from typer.testing import CliRunner

from gennas.cli.app import app

TRAP = "x; touch PWNED #"


def _pasted(line: str, start: str) -> list[str]:
    """The words a shell would make of the command in ``line`` that begins with ``start``."""
    command = line[line.index(start):].split("`")[0].split(" (")[0]
    return shlex.split(command)


def test_the_design_command_after_a_search_quotes_its_storage_and_study(tmp_path):
    storage = str(tmp_path / "my runs" / "r.db")
    (tmp_path / "my runs").mkdir()
    out = CliRunner().invoke(app, ["search", "--method", "designer", "--budget", "2", "-q", "--storage", storage,
                                   "--study", TRAP])
    assert out.exit_code == 0, out.output
    line = next(line for line in out.stderr.splitlines() if "gennas design --storage" in line)
    words = _pasted(line, "gennas design")
    assert words[words.index("--storage") + 1] == storage and words[words.index("--study") + 1] == TRAP


def test_a_space_file_recorded_in_a_study_is_quoted_in_the_resume_advice(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(study_name="s", storage=url)
    study.set_user_attr("gennas_space", "mine")
    study.set_user_attr("gennas_space_file", f"x.yaml; {TRAP}")
    out = CliRunner().invoke(app, ["search", "--storage", url, "--study", "s", "--resume", "-b", "2", "-q"])
    assert out.exit_code == 2
    words = shlex.split(out.stderr.split("resume it with ", 1)[1].strip())
    assert words == ["--space", f"x.yaml; {TRAP}"]


def test_a_task_read_from_a_study_is_quoted_in_the_note_on_learning_it():
    import gennas
    from gennas.design.notes import rank_only_note

    designer = gennas.Designer("darts", task="cifar10", seed=0)
    note = rank_only_note(designer, TRAP, "my space.yaml", 10)
    words = _pasted(note, "gennas search")
    assert words[words.index("--task") + 1] == TRAP and words[words.index("--space") + 1] == "my space.yaml"


def test_text_from_a_study_reaches_the_terminal_without_control_characters_or_markup(capsys):
    """Walk 38 #10: a study's task name holding ESC sequences retitled and cleared the terminal
    (in notes and table titles), and rich read `[bold red]` in it as markup."""
    from gennas.cli.output import note, print_table

    task = "t\x1b]0;TITLE\x07\x1b[2J[bold red]MARKUP[/]"
    print_table(f"designs for {task}", [{"task": task}])
    note(f"the predictor was not trained on task {task}")
    out = capsys.readouterr()
    assert "\x1b" not in out.out + out.err and "\x07" not in out.out + out.err
    assert "[bold red]MARKUP[/]" in out.out and "\\x1b]0;TITLE\\x07" in out.err


def test_a_command_that_runs_out_of_memory_says_so_in_one_line(capsys):
    """Walk 38 #4, #9: a network too large for the machine ended a command in torch's allocator
    traceback."""
    import typer

    from gennas.cli.output import friendly

    @friendly
    def build() -> None:
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate "
                           "memory: you tried to allocate 2415919104 bytes. Error code 12 (Cannot allocate memory)")

    try:
        build()
    except typer.Exit as stop:
        assert stop.exit_code == 2
    said = capsys.readouterr().err
    assert said.startswith("error: out of memory (err == 0. DefaultCPUAllocator: can't allocate memory") and "\n" == said[-1]
