"""The package's layering: lower modules never import upper ones, so scalinglab's imports form no cycle."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _checker():
    spec = importlib.util.spec_from_file_location("check_import_cycles", ROOT / "tools" / "check_import_cycles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_checker_sees_relative_function_level_and_submodule_imports(tmp_path):
    checker = _checker()
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("from .a import f\nfrom . import b\n")
    (package / "a.py").write_text("def f():\n    from .sub import c\n")
    (package / "b.py").write_text("import pkg.a\n")
    (package / "sub" / "__init__.py").write_text("from .c import g\n")
    (package / "sub" / "c.py").write_text("from ..b import x\nfrom .. import a\n")
    graph = checker.import_graph(package)
    assert graph == {"pkg": {"pkg.a", "pkg.b"}, "pkg.a": {"pkg.sub.c"}, "pkg.b": {"pkg.a"},
                     "pkg.sub": {"pkg.sub.c"}, "pkg.sub.c": {"pkg.a", "pkg.b"}}
    assert checker.cycles(graph) == [["pkg.a", "pkg.sub.c", "pkg.a"], ["pkg.a", "pkg.sub.c", "pkg.b", "pkg.a"]]


def test_scalinglab_has_no_import_cycles():
    checker = _checker()
    found = checker.cycles(checker.import_graph(ROOT / "scalinglab"))
    assert not found, "import cycles in scalinglab:\n" + "\n".join(" -> ".join(cycle) for cycle in found)
