"""Set-ups other than a UTF-8 Linux shell: undecodable and non-ASCII paths, narrow output encodings,
Windows's missing POSIX pieces, '~' not expanded, files with a BOM (user walk 46)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import gennas
from gennas.errors import GennasError

EXPORT_PROBE = """
import os, sys
import gennas
folder = os.fsdecode(os.path.join(os.fsencode(sys.argv[1]), b"lat\\xe9 dir"))
paths = gennas.export.export_architecture(gennas.load_space("nb201").sample(0), folder, onnx=False)
print("WROTE", sorted(p.name for p in paths.values()))
"""


def test_an_export_into_a_folder_whose_name_is_not_utf8_or_ascii_is_written(tmp_path):
    """torch.export.save got the path: its C++ writer takes ASCII names only, and the interpreter
    aborted (SIGABRT, no error line, a .partial folder left); on Windows, any non-ASCII folder."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    done = subprocess.run([sys.executable, "-c", EXPORT_PROBE, str(tmp_path)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "model.pt2" in done.stdout


def test_a_refused_result_is_journaled_where_os_has_no_o_nofollow(tmp_path, nb201, monkeypatch):
    """Windows has no os.O_NOFOLLOW: its AttributeError lost the results the journal keeps."""
    from gennas.evaluators.base import Result
    from gennas.search.storage import ResultStore

    store = ResultStore.open(nb201, f"sqlite:///{tmp_path / 'run.db'}", "s")
    monkeypatch.delattr(os, "O_NOFOLLOW", raising=False)
    said = store._keep([Result(nb201.sample(0), 50.0, "train")])  # noqa: SLF001 - what add_many does on a refusal
    assert said.startswith("kept in ") and (tmp_path / "run.db.journal.jsonl").is_file()


def test_a_table_cell_the_output_cannot_encode_is_escaped(monkeypatch):
    """A study named 'étude' ended a search's table in a UnicodeEncodeError (PYTHONIOENCODING=ascii,
    a Windows code page), after the results were stored."""
    import io

    from gennas.cli.output import printable

    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    shown = printable("étude 日本")
    assert shown == "\\xe9tude \\u65e5\\u672c"
    shown.encode("ascii")


def test_names_with_undecodable_bytes_key_their_work_folders():
    """A Latin-1 folder name read under a UTF-8 locale: str.encode() refused its surrogates."""
    from gennas.search.progress import work_dir

    odd = os.fsdecode(b"/tmp/lat\xe9/run.db")
    assert work_dir(f"sqlite:///{odd}", os.fsdecode(b"\xe9tude")).name.startswith("tude-")
    work_dir("postgresql://u@h/" + odd, os.fsdecode(b"\xe9tude"))  # keyed by a hash of the URL: no UnicodeEncodeError


def test_report_figures_of_groups_whose_safe_names_meet_get_their_own_files():
    from gennas.report import figure_suffix

    keys = ["tâche | synflow", "tèche | synflow", "Cifar10 | table", "cifar10 | table", "cifar100 | table"]
    names = [figure_suffix(k, keys) for k in keys]
    assert len({n.casefold() for n in names}) == len(keys)
    assert names[-1] == "cifar100_table"  # a name no other meets is kept as it was


def test_on_windows_no_process_is_probed_with_a_signal(monkeypatch):
    """os.kill(pid, 0) sends a console Ctrl-C there (signal.CTRL_C_EVENT is 0)."""
    from gennas.search.backends import process_alive

    monkeypatch.setattr(os, "kill", lambda *a: pytest.fail("os.kill called"))
    monkeypatch.setattr(os, "name", "nt")
    assert process_alive(2**22 + 12345)


def test_a_home_given_as_tilde_is_the_home_folder(tmp_path, monkeypatch):
    """Quoted, or where no shell expands it, '~/x' made a literal ./~ folder in the working folder."""
    from gennas.cli.checks import path_option
    from gennas.resources import gennas_home

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GENNAS_HOME", "~/gh")
    assert gennas_home() == tmp_path / "gh"
    assert path_option("~/exp", "--export") == tmp_path / "exp"


def test_a_timings_file_with_a_byte_order_mark_is_read(tmp_path):
    """Notepad and PowerShell write a BOM: the JSON was 'not JSON'; UTF-16 is named."""
    from gennas.surrogates.timings_file import read_timings

    arch = gennas.load_space("nb201").sample(0).to_string()
    bom = tmp_path / "t.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps([[arch, 3.5]]).encode())
    samples, _ = read_timings(bom)
    assert len(samples) == 1
    utf16 = tmp_path / "u.json"
    utf16.write_text(json.dumps([[arch, 3.5]]), encoding="utf-16")
    with pytest.raises(GennasError, match="save it as UTF-8"):
        read_timings(utf16)


def test_a_coarse_clock_s_zero_timings_are_noisy_not_a_division_by_zero():
    """Windows's thread clock moves in 15.6 ms steps: most cells timed 0 ms, and the FLOPs check divided by it."""
    from gennas.surrogates.measure import Timing, noise_problems, spread_of

    timings = [Timing(0.0, spread_of([0.0, 0.0, 0.0]), 3), Timing(15.6, 0.0, 3)]
    problems = noise_problems(["a", "b"], timings, flops=[5e8, 1e6])  # the larger network at 0 ms
    assert any("spread inf" in p for p in problems)


def test_a_storage_path_holding_a_percent_escape_is_refused_before_anything_is_written(tmp_path):
    """SQLAlchemy decodes %41 to A: the search failed and left a temporary database in the decoded folder."""
    from gennas.search.backends import open_storage

    folder = tmp_path / "pct%41dir"
    folder.mkdir()
    (tmp_path / "pctAdir").mkdir()
    with pytest.raises(GennasError, match="two hex digits .* rename the folder or file"):
        open_storage(str(folder / "r.db"))
    assert not any((tmp_path / "pctAdir").iterdir()) and not any(folder.iterdir())
    assert open_storage(f"sqlite:///{tmp_path / '100% run.db'}") is not None  # a lone '%' is kept as it is
