"""The package's layout: no import cycle inside gennas/, no private name imported from another
module, and modules of one job (no file over 450 lines)."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "gennas"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, str]]:
    """``(imported module, imported name)`` for every gennas import of a module, function-level included."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                found.append((full if full in modules else target, alias.name))
        elif isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
    return [(t, n) for t, n in found if t in modules]


def test_no_import_cycle_inside_the_package():
    modules = _modules()
    graph = nx.DiGraph()
    for name, path in modules.items():
        for target, _ in _imports(name, path, modules):
            # a package's __init__ re-exporting its own children is not a cycle
            if target != name and not target.startswith(name + "."):
                graph.add_edge(name, target)
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert cycles == []


def test_no_private_name_is_imported_from_another_module():
    modules = _modules()
    private = [f"{name} <- {target}.{imported}" for name, path in modules.items()
               for target, imported in _imports(name, path, modules)
               if imported.startswith("_") and not imported.startswith("__") and target != name
               and not name.startswith(target + ".")]
    assert private == []


def test_modules_stay_small():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py") if (n := p.read_text().count("\n")) > 450}
    assert long == {}
