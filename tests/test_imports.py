"""Every module imports alone, in a fresh interpreter, without side effects; no import cycle.

Cheap habits that keep the structure (../shared/spec/STRUCTURE.md): a module that only imports when
another was imported first, or that changes the environment when imported, is found here.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted([*ROOT.glob("intake/**/*.py"), *ROOT.glob("models/*.py")]):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


# OpenCV's own loader sets LD_LIBRARY_PATH when imported: loaded before the snapshot, so that only
# what intake's modules do is seen.
PROBE = """
import os, sys
import cv2, numpy
before = dict(os.environ)
import importlib
importlib.import_module(sys.argv[1])
changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))
print(",".join(changed))
"""


def test_every_module_imports_alone_in_a_fresh_interpreter_and_leaves_the_environment_alone():
    # Given every module of intake and models
    names = list(_modules())
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_THREAD_LIMIT", "OPENCV_FOR_THREADS_NUM",
                                                             "OPENBLAS_NUM_THREADS")}

    def probe(name: str):
        proc = subprocess.run([sys.executable, "-c", PROBE, name], capture_output=True, text=True,
                              timeout=120, cwd=ROOT, env=env)
        return name, proc.returncode, proc.stdout.strip(), proc.stderr[-400:]

    # When each is imported first, alone
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(probe, names))
    # Then it imports, and no environment variable changed
    failed = [(n, err) for n, code, _, err in results if code != 0]
    assert not failed
    touched = [(n, out) for n, code, out, _ in results if out]
    assert not touched


def _import_graph(module_level_only: bool) -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = tree.body if module_level_only else list(ast.walk(tree))
        for node in nodes:
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            else:
                continue
            graph[name] |= {t for t in targets if t in mods and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_two_modules_import_each_other_at_import_time():
    assert _cycles(_import_graph(module_level_only=True)) == []


def test_no_cycle_even_through_imports_inside_functions():
    # Given the imports of every module, those inside functions included (the worker plumbing:
    # broker, middleware, actors, outbox, monitoring used to reach each other there)
    graph = _import_graph(module_level_only=False)
    # Then no module reaches itself through them
    assert _cycles(graph) == []


def test_importing_the_actors_chooses_no_broker():
    # Given a fresh interpreter with Redis configured as the broker
    code = ("import dramatiq.broker as b, intake.workers.actors, intake.workers.outbox, intake.monitoring, "
            "intake.service; print(b.global_broker is None)")
    env = {**os.environ, "INTAKE_BROKER_URL": "redis://127.0.0.1:1/0"}
    # When the actors, the outbox, monitoring and the front door are imported
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env=env)
    # Then no broker was chosen yet: that is for the entry points (`configure()`)
    assert proc.returncode == 0, proc.stderr[-400:]
    assert proc.stdout.strip() == "True"
