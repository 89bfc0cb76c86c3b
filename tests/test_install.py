"""A plain (non-editable) install carries the spaces, bundled data and checkpoints."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    pytest.importorskip("setuptools")
    src = tmp_path_factory.mktemp("src")
    # Build from a copy so the checkout gets no build/ or egg-info folders.
    for name in ("gennas", "spaces", "checkpoints"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-q", "-w", str(out), str(src)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return zipfile.ZipFile(next(out.glob("gennas-*.whl")))


def test_wheel_has_resources(wheel):
    names = set(wheel.namelist())
    for space in (ROOT / "spaces").glob("*.yaml"):
        assert f"gennas/_spaces/{space.name}" in names
    for table in (ROOT / "gennas" / "data").glob("*.gz"):
        assert f"gennas/data/{table.name}" in names
    for ckpt in (ROOT / "checkpoints").iterdir():
        if ckpt.is_file():
            assert f"gennas/_checkpoints/{ckpt.name}" in names


def test_wheel_has_every_package(wheel):
    names = set(wheel.namelist())
    for init in (ROOT / "gennas").rglob("__init__.py"):
        rel = init.relative_to(ROOT).as_posix()
        assert rel in names, f"{rel} missing from the wheel: add its package to pyproject.toml"


def test_installed_package_finds_resources(wheel, tmp_path):
    wheel.extractall(tmp_path)
    code = ("import gennas, sys; from gennas.resources import spaces_dir, checkpoints_dir;"
            "assert gennas.__file__.startswith(sys.argv[1]), gennas.__file__;"
            "assert set(gennas.list_spaces()) >= {'nb201', 'mbv3'};"
            "assert len(gennas.load_benchmark('nb201')) == 15625;"
            "print(spaces_dir(), checkpoints_dir())")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                          env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "_spaces" in proc.stdout
