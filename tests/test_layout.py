"""The house rules of the package's layout, read from the source: dependencies point one
way, the library never reaches the web layer, no module grows past 450 lines."""

import ast

from .conftest import ROOT

PACKAGE = ROOT / "textlatent"
MAX_LINES = 450
# The command line is an edge, like web/: only its `serve` may build the web app.
EDGES = {"textlatent.cli.service"}


def _module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """Every module ``path`` imports, at the top or inside a function, resolved to full names."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            found.add(target)
            # `from . import registry` names a module too
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _graph():
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        graph[name] = {m for m in _imports(path) if m in modules and m != name}
    return modules, graph


def test_no_library_module_imports_flask_or_web():
    modules, _ = _graph()
    offenders = {name: sorted(m for m in _imports(path) if m.split(".")[0] in ("flask", "werkzeug", "web"))
                 for name, path in modules.items() if name not in EDGES}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_import_cycles_between_library_modules():
    _, graph = _graph()
    # A package's __init__ re-exporting its own modules is not a cycle of the design.
    edges = {a: {b for b in bs if not a.startswith(b + ".")} for a, bs in graph.items()}
    cycles, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_queue_is_a_leaf_and_ingest_does_not_reach_later_stages():
    _, graph = _graph()
    later = ("textlatent.jobs", "textlatent.models", "textlatent.explore", "textlatent.export", "textlatent.views")
    assert not [m for m in graph["textlatent.jobs.queue"] if m.startswith("textlatent.jobs")]
    for name, deps in graph.items():
        if name.startswith(("textlatent.ingest", "textlatent.store")):
            assert not [d for d in deps if d.startswith(later)], name


def test_no_module_is_longer_than_450_lines():
    long = {str(p.relative_to(ROOT)): n for p in list(PACKAGE.rglob("*.py")) + list((ROOT / "web").rglob("*.py"))
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
