"""What the services' layer tests read from their source: the modules a file imports, the
clocks it reads and the module-level state it changes. Each service's `test_layers` states
its own rules with these."""

from __future__ import annotations

import ast
from collections.abc import Collection
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[1] / "services"

WALL_CLOCKS = {"datetime.now", "datetime.utcnow", "date.today", "time.time"}
"""The calls that read the time of day."""
CLOCKS = WALL_CLOCKS | {"time.monotonic"}
"""Every clock a module could read for itself."""


def modules(folder: Path) -> list[str]:
    """The names of the Python modules in `folder`, sorted."""
    return sorted(p.stem for p in folder.glob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module the file imports, or imports a name from."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def imports_from(
    path: Path, prefixes: tuple[str, ...], *, allowed: Collection[str] = ()
) -> set[str]:
    """The file's imports under any of `prefixes`, but for the `allowed` modules."""
    return {n for n in imported(path) if n.startswith(prefixes) and n not in allowed}


def clocks_read(path: Path) -> set[str]:
    """The clocks (of `CLOCKS`) the file calls."""
    return {
        ast.unparse(node.func)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    } & CLOCKS


MUTATORS = {"append", "add", "clear", "discard", "extend", "insert", "pop", "popitem"}
MUTATORS |= {"remove", "setdefault", "update"}


def module_level_state(path: Path) -> list[str]:
    """Module-level names that the module changes after binding them (an item stored, a
    mutating method called), weak dictionaries, and `global` statements."""
    tree = ast.parse(path.read_text())
    names = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.append(ast.unparse(node))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del):
            if isinstance(node.value, ast.Name) and node.value.id in names:
                found.append(ast.unparse(node))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id in names and node.func.attr in MUTATORS:
                found.append(ast.unparse(node))
            if node.func.attr in {"WeakKeyDictionary", "WeakValueDictionary"}:
                found.append(ast.unparse(node))
    return found
