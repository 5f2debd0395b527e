"""The package's import graph: no cycles (function-level imports included), the layers of the design
(bench.core imports nothing above it; bench's harness never imports a tracker module by name),
and every module importable on its own in a fresh interpreter state."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Dict, Set

from tests.helpers import ROOT

PACKAGES = ("bench", "sot", "mot")


def _modules() -> Dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for p in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(p.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = p
    return out


def _graph() -> Dict[str, Set[str]]:
    mods = _modules()
    graph: Dict[str, Set[str]] = {}
    for name, path in mods.items():
        pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: Set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                cands = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = pkg.split(".")
                    up = up[: len(up) - node.level + 1] if node.level > 1 else up
                    base = ".".join(up + ([base] if base else []))
                cands = [base] + [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            for c in cands:
                while c and c not in mods:
                    c = c.rpartition(".")[0]
                if c and c != name and not c.startswith(name + ".") and not name.startswith(c + "."):
                    deps.add(c)
        graph[name] = deps
    return graph


def _cycles(graph: Dict[str, Set[str]]):
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    on: Set[str] = set()
    stack, out, counter = [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                elif nxt in on:
                    low[v] = min(low[v], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_cycle_finder_finds_a_constructed_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_layers():
    graph = _graph()
    for name, deps in graph.items():
        if name.startswith("bench.core"):
            bad = [d for d in deps if not d.startswith("bench.core")]
            assert not bad, f"{name} (the floor) imports {bad}"
        if name.startswith("bench"):
            bad = [d for d in deps if d.split(".")[0] in ("sot", "mot")]
            assert not bad, f"{name} imports tracker code {bad}: the harness finds trackers through the registry"
        if name.startswith("sot"):
            bad = [d for d in deps if d.startswith("mot")]
            assert not bad, f"{name} imports {bad}: mot stands on sot, not the other way round"


def test_every_module_imports_on_its_own():
    """Each module imported in a state where no other module of the project is loaded yet."""
    names = sorted(n for n in _modules() if not n.endswith("__main__"))
    code = f"""
import importlib, sys, traceback
bad = []
for name in {names!r}:
    for m in [m for m in sys.modules if m.split('.')[0] in {PACKAGES!r}]:
        del sys.modules[m]
    try:
        importlib.import_module(name)
    except ImportError as exc:
        if getattr(exc, "name", None) and exc.name.split('.')[0] not in {PACKAGES!r}:
            continue  # an optional third-party dependency that is not installed
        bad.append(name + ': ' + traceback.format_exc().strip().splitlines()[-1])
    except Exception:
        bad.append(name + ': ' + traceback.format_exc().strip().splitlines()[-1])
print('\\n'.join(bad))
"""
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "", r.stdout
