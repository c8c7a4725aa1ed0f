"""Print every import cycle among the modules of a package (default: scalinglab); exit 1 if there is one.

    python tools/check_import_cycles.py [PACKAGE_DIR]

Walks ``PACKAGE_DIR/**/*.py`` and reads each file's imports with :mod:`ast` -- at
module level and inside functions, absolute and relative -- keeping only those of
modules of the package. A package's ``__init__`` importing its submodules, and a
submodule importing a sibling with ``from . import x``, are not cycles in themselves:
importing ``pkg.mod`` is not counted as importing ``pkg/__init__``. An import
``from .pkg import name`` goes to the submodule ``pkg.name`` when there is one and
to ``pkg/__init__`` otherwise.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted name of every module under ``package_dir`` (a package's ``__init__`` by the package's name)."""
    package_dir = Path(package_dir)
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute name ``from <module> import ...`` refers to, written in ``module`` (file ``path``)."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[:len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """``{module: {modules of the package that it imports}}``, from every import statement in every file."""
    modules = module_names(package_dir)
    graph = {name: set() for name in modules}

    def target(name):   # the module itself, or for "import pkg.mod.attr" the longest known prefix
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            found = []
            if isinstance(node, ast.Import):
                found = [target(alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(name, path, node)
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    found.append(submodule if submodule in modules else target(source))
            graph[name].update(t for t in found if t and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle of ``graph``, each as ``[a, b, ..., a]`` starting at its smallest name."""
    found = []
    order = sorted(graph)
    for start_index, start in enumerate(order):
        allowed = set(order[start_index:])   # a cycle is reported from its smallest module only
        stack = [(start, iter(sorted(graph[start] & allowed)))]
        path = [start]
        on_path = {start}
        while stack:
            node, successors = stack[-1]
            for nxt in successors:
                if nxt == start:
                    found.append(path + [start])
                elif nxt not in on_path:
                    stack.append((nxt, iter(sorted(graph[nxt] & allowed))))
                    path.append(nxt)
                    on_path.add(nxt)
                    break
            else:
                stack.pop()
                on_path.discard(path.pop())
    return found


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    package_dir = Path(argv[0]) if argv else ROOT / "scalinglab"
    found = cycles(import_graph(package_dir))
    for cycle in found:
        print(" -> ".join(cycle))
    print(f"{len(found)} import cycle{'' if len(found) == 1 else 's'} in {package_dir.name}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
