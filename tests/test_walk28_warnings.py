"""Every warning gennas issues is a :class:`gennas.GennasWarning`, so a pipeline can turn them all
into errors with one filter (walk 28 #11): ``module="gennas"`` never matched, as each warning
points at the caller's line, and several were plain ``UserWarning``/``RuntimeWarning``."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import warnings
from pathlib import Path

import pytest

import gennas
from gennas.errors import GennasWarning

PACKAGE = Path(gennas.__file__).resolve().parent

#: plain-category ``warnings.warn`` calls allowed: file -> how many (none)
LEFT_PLAIN: dict[str, int] = {}


def _warning_classes() -> dict[str, type]:
    """``module.Class`` -> class, for every Warning subclass defined in a module of gennas."""
    found = {}
    for info in pkgutil.walk_packages(gennas.__path__, "gennas."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, Warning) and value.__module__ == info.name:
                found[f"{info.name}.{name}"] = value
    return found


def test_gennas_warning_is_exported_and_a_user_warning():
    assert gennas.GennasWarning is GennasWarning and "GennasWarning" in gennas.__all__
    assert issubclass(GennasWarning, UserWarning)  # filters on UserWarning still catch them


def test_every_warning_class_under_gennas_subclasses_gennas_warning():
    classes = _warning_classes()
    # the source's class statements, so a module the walk missed cannot hide one
    declared = {node.name for path in PACKAGE.rglob("*.py") for node in ast.walk(ast.parse(path.read_text()))
                if isinstance(node, ast.ClassDef) and any(ast.unparse(b).endswith("Warning") for b in node.bases)}
    names = {name.rsplit(".", 1)[1] for name in classes}
    assert declared <= names and {"NewStudyOnResume", "MissedCheck", "ScoresOffTable", "BrokenDeviceFile"} <= names
    assert [name for name, cls in classes.items() if not issubclass(cls, GennasWarning)] == []


def _plain_warns(path: Path) -> list[int]:
    """Lines of ``warnings.warn`` calls in ``path`` with no category or a builtin one, whose
    message is text (a Warning instance keeps its class)."""
    plain = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Call) and ast.unparse(node.func) == "warnings.warn"):
            continue
        category = node.args[1] if len(node.args) > 1 else next(
            (k.value for k in node.keywords if k.arg == "category"), None)
        message = node.args[0]
        text = isinstance(message, (ast.Constant, ast.JoinedStr, ast.BinOp))
        if (category is None and text) or (category is not None and ast.unparse(category) in
                                           {"UserWarning", "RuntimeWarning", "Warning"}):
            plain.append(node.lineno)
    return plain


def test_no_warning_under_gennas_is_issued_without_a_gennas_category():
    plain = {str(path.relative_to(PACKAGE)): len(lines) for path in sorted(PACKAGE.rglob("*.py"))
             if (lines := _plain_warns(path))}
    assert plain == LEFT_PLAIN


def test_one_filter_turns_a_designer_s_warnings_into_errors():
    designer = gennas.Designer("nb201", task="cifar10")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=gennas.GennasWarning)
        with pytest.raises(gennas.GennasWarning, match="not finite"):  # had no category of its own
            designer.tell(designer.space.sample(0), float("nan"))
        with pytest.raises(gennas.GennasWarning, match="not its table's accuracies"):  # ScoresOffTable
            designer.tell(designer.space.sample(1), 150.0)


def test_a_gennas_warning_still_points_at_the_caller_s_line():
    designer = gennas.Designer("nb201", task="cifar10")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        designer.tell(designer.space.sample(0), float("nan"))
    assert [Path(w.filename).name for w in caught] == [Path(__file__).name]
    assert issubclass(caught[0].category, GennasWarning)
