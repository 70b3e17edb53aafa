"""No project code runs text or bytes as code: an ast scan for eval/exec/pickle and unsafe torch.load.

Typed formulas go through optlab.expr's AST whitelist; uploaded state goes through JSON or
``torch.load(..., weights_only=True)``. This test keeps it that way. It reads sources only (nothing is run)
and leaves out tests (which may patch builtins on purpose) and method calls such as ``model.eval()``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {".venv", "build", "artifacts", ".git", "__pycache__", ".pytest_cache", ".ruff_cache"}

# Fully qualified callables that execute or unpickle what they are given.
FORBIDDEN = {
    "eval": "eval() runs text as code",
    "exec": "exec() runs text as code",
    "compile": "compile() builds code objects from text",
    "__import__": "__import__() imports modules named by data",
    "builtins.eval": "eval() runs text as code",
    "builtins.exec": "exec() runs text as code",
    "pickle.load": "unpickling runs code",
    "pickle.loads": "unpickling runs code",
    "pickle.Unpickler": "unpickling runs code",
    "dill.load": "unpickling runs code",
    "dill.loads": "unpickling runs code",
    "marshal.loads": "marshal loads code objects",
    "shelve.open": "shelve unpickles",
    "pandas.read_pickle": "unpickling runs code",
    "joblib.load": "unpickling runs code",
    "sympy.sympify": "sympify evaluates strings",
    "sympy.parse_expr": "parse_expr evaluates strings",
    "sympy.parsing.sympy_parser.parse_expr": "parse_expr evaluates strings",
    "numexpr.evaluate": "numexpr evaluates strings",
}


def qualified_names(tree: ast.AST) -> dict[str, str]:
    """Local name -> what it was imported as: ``import torch as T`` gives T -> torch."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def dotted(node: ast.expr, names: dict[str, str]) -> str | None:
    """``torch.load`` -> "torch.load" (aliases resolved); None for anything that is not a plain dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(names.get(node.id, node.id))
    return ".".join(reversed(parts))


def keyword_is_true(call: ast.Call, name: str) -> bool:
    return any(
        kw.arg == name and isinstance(kw.value, ast.Constant) and kw.value.value is True
        for kw in call.keywords
    )


def unsafe_calls(source: str) -> list[str]:
    """Every call in the source that could run code from data, as "line: call: why"."""
    tree = ast.parse(source)
    names = qualified_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func, names)
        if name is None:
            continue
        # A bare name is a builtin only when nothing was imported under it; an attribute call like
        # model.eval() resolves to "model.eval" and is not in the table.
        if name in FORBIDDEN:
            found.append(f"{node.lineno}: {name}(): {FORBIDDEN[name]}")
        elif name == "torch.load" and not keyword_is_true(node, "weights_only"):
            found.append(f"{node.lineno}: torch.load() without weights_only=True unpickles arbitrary objects")
        elif name in ("numpy.load", "np.load") and any(
            kw.arg == "allow_pickle" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False)
            for kw in node.keywords
        ):
            found.append(f"{node.lineno}: numpy.load(allow_pickle=...) unpickles arbitrary objects")
    return found


def project_sources() -> list[Path]:
    """What the app and library run: optlab/, pages/, app.py, bench/ (tests may patch builtins on purpose)."""
    files = [ROOT / "app.py"] if (ROOT / "app.py").exists() else []
    for folder in ("optlab", "pages", "bench", "scripts"):
        files += (ROOT / folder).rglob("*.py")
    return sorted(p for p in files if not SKIP_DIRS.intersection(p.relative_to(ROOT).parts[:-1]))


SELF_CHECK = [
    # (source, should_fail)
    ("eval('1 + 1')", True),
    ("exec(text)", True),
    ("code = compile(text, '<f>', 'eval')", True),
    ("import builtins\nbuiltins.eval(s)", True),
    ("import pickle\npickle.load(f)", True),
    ("from pickle import loads\nloads(b)", True),
    ("import pickle as pk\npk.loads(b)", True),
    ("import torch\ntorch.load(f)", True),
    ("import torch\ntorch.load(f, weights_only=False)", True),
    ("import torch as T\nT.load(f, map_location='cpu')", True),
    ("from torch import load\nload(f)", True),
    ("import torch\ntorch.load(f, weights_only=True)", False),
    ("import torch\ntorch.load(f, map_location='cpu', weights_only=True)", False),
    ("import numpy as np\nnp.load(f, allow_pickle=True)", True),
    ("import numpy as np\nnp.load(f)", False),
    ("from sympy import sympify\nsympify(text)", True),
    ("model.eval()", False),
    ("net.train(); net.eval(); ema.module.eval()", False),
    ("import ast\nast.literal_eval(s)", False),
    ("import json\njson.loads(s)", False),
    ("x = 'eval(1)'", False),
]


@pytest.mark.parametrize(("source", "should_fail"), SELF_CHECK)
def test_scanner_catches_synthetic_calls(source, should_fail):
    found = unsafe_calls(source)
    assert bool(found) == should_fail, found


def test_there_are_sources_to_scan():
    paths = {p.relative_to(ROOT).parts[0] for p in project_sources()}
    assert {"optlab", "app.py"} <= paths


@pytest.mark.parametrize("path", project_sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_code_execution_from_data(path):
    found = unsafe_calls(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)}:\n" + "\n".join(found)
