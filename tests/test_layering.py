"""The layering of shared/ARCHITECTURE.md, enforced by reading every module's imports (ast, nothing is run).

Layers, top to bottom (an import may only point down or sideways):

    pages/*.py, app.py    Streamlit pages
    optlab.ui             Streamlit helpers
    optlab.plots          Plotly figure builders
    optlab.trace, mnist, lessons   running things
    optlab.registry       optimizer catalog
    optlab.optim, ema, surfaces, expr, theory, schedules   the math, torch only

Streamlit may be imported only by the top two layers, Plotly only by the top three, and nothing inside
optlab imports the pages. Imports under ``if TYPE_CHECKING:`` count too: they are dependencies all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PAGES = 5  # rank of pages/*.py and app.py
# Module prefix -> rank. The longest matching prefix wins, so a subpackage inherits its package's rank.
LAYERS: dict[str, int] = {
    "optlab.ui": 4,
    "optlab.plots": 3,
    "optlab.trace": 2,
    "optlab.basins": 2,
    "optlab.sweep": 2,
    "optlab.presets": 2,
    "optlab.mnist": 2,
    "optlab.jobs": 2,
    "optlab.classroom": 2,
    "optlab.lessons": 2,
    "optlab.config": 2,
    "optlab.registry": 1,
    "optlab.optim": 0,
    "optlab.ema": 0,
    "optlab.surfaces": 0,
    "optlab.expr": 0,
    "optlab.theory": 0,
    "optlab.schedules": 0,
    "optlab.i18n": 0,
    "optlab.fields": 0,
}
STREAMLIT_MIN_RANK = LAYERS["optlab.ui"]  # optlab.ui and the pages
PLOTLY_MIN_RANK = LAYERS["optlab.plots"]  # optlab.plots, optlab.ui and the pages
LAYER_NAMES = {0: "math", 1: "registry", 2: "running", 3: "plots", 4: "ui", 5: "pages"}


def rank_of(module: str) -> int | None:
    """Layer rank of a dotted module name: pages -> 5, optlab.x.y -> its layer, anything else -> None."""
    if module == "app" or module == "pages" or module.startswith("pages."):
        return PAGES
    if module == "optlab":
        return 0  # the package root runs on every ``import optlab.x``: it may only pull in the math
    best = None
    for prefix, rank in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, rank)
    return None if best is None else best[1]


def module_name(path: Path) -> str:
    """Dotted module name of a file under ROOT: optlab/optim/sgd.py -> optlab.optim.sgd."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(module: str, source: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, absolute dotted name) for every import in the source; relative imports are resolved.

    ``from a.b import c`` yields both ``a.b`` and ``a.b.c`` (c may be a submodule).
    """
    tree = ast.parse(source)
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                base_name = ".".join(base + ([node.module] if node.module else []))
            else:
                base_name = node.module or ""
            if base_name:
                found.append((node.lineno, base_name))
            found += [(node.lineno, f"{base_name}.{alias.name}".strip(".")) for alias in node.names]
    return found


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """Every layering rule the module breaks, as readable lines (empty list: the module is fine)."""
    own = rank_of(module)
    problems = []
    for line, target in imported_modules(module, source, is_package):
        top = target.split(".")[0]
        where = f"{module}:{line} imports {target}"
        if top == "streamlit" and (own is None or own < STREAMLIT_MIN_RANK):
            problems.append(f"{where}: Streamlit belongs in optlab/ui/ and the pages only")
        if top == "plotly" and (own is None or own < PLOTLY_MIN_RANK):
            problems.append(f"{where}: Plotly belongs in optlab/plots/, optlab/ui/ and the pages only")
        if top == "pages" and module.startswith("optlab"):
            problems.append(f"{where}: the library must not import the pages")
        target_rank = rank_of(target)
        if top == "optlab" and own is not None and target_rank is not None and target_rank > own:
            problems.append(
                f"{where}: upward import ({LAYER_NAMES[own]} layer -> {LAYER_NAMES[target_rank]} layer)"
            )
    return problems


def project_modules() -> list[Path]:
    files = sorted((ROOT / "optlab").rglob("*.py")) + sorted((ROOT / "pages").glob("*.py"))
    if (ROOT / "app.py").exists():
        files.append(ROOT / "app.py")
    return files


# --- the rules, checked on synthetic sources, so the scanner itself is known to catch what it should ----------

SELF_CHECK = [
    # (module, source, is_package, should_fail)
    ("optlab.trace", "import streamlit as st", False, True),
    ("optlab.plots.surface", "from streamlit import session_state", False, True),
    ("optlab.ui.widgets", "import streamlit as st", False, False),
    ("pages.1_Surface_Lab", "import streamlit as st\nimport plotly.graph_objects as go", False, False),
    ("optlab.trace", "import plotly.graph_objects as go", False, True),
    ("optlab.surfaces", "def f():\n    import plotly.express as px", False, True),
    ("optlab.plots.surface", "import plotly.graph_objects as go", False, False),
    ("optlab.optim.sgd", "from optlab.trace import Trace", False, True),
    ("optlab.optim.sgd", "from ..trace import Trace", False, True),
    ("optlab.optim", "from . import sgd\nfrom .adam import Adam", True, False),
    ("optlab.optim", "from ..registry import REGISTRY", True, True),
    ("optlab.ema", "from optlab import mnist", False, True),
    ("optlab.schedules", "from optlab.lessons.momentum import x", False, True),
    ("optlab.expr", "import optlab.ui.widgets", False, True),
    (
        "optlab.theory",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from optlab.plots import x",
        False,
        True,
    ),
    ("optlab.registry", "from optlab.optim import SGD\nfrom optlab import optim", False, False),
    ("optlab.registry", "from optlab.trace import Trace", False, True),
    ("optlab.trace", "from optlab.registry import get_spec\nfrom .surfaces import Surface", False, False),
    ("optlab.trace", "from optlab.plots import contour", False, True),
    ("optlab.mnist", "from optlab.trace import Trace", False, False),
    ("optlab.plots.trajectory", "from optlab.trace import Trace", False, False),
    ("optlab.plots.trajectory", "from optlab.ui import widgets", False, True),
    ("optlab.plots.trajectory", "from ..ui.widgets import slider", False, True),
    (
        "optlab.ui.panels",
        "from optlab.plots import contour\nfrom optlab.trace import run_traces",
        False,
        False,
    ),
    ("optlab.ui.panels", "from pages import x", False, True),
    ("optlab.trace", "import pages", False, True),
    ("optlab", "from optlab.optim import SGD, Adam", True, False),
    ("optlab", "from .trace import run_traces", True, True),
    ("optlab", "import streamlit", True, True),
]


@pytest.mark.parametrize(("module", "source", "is_package", "should_fail"), SELF_CHECK)
def test_scanner_catches_synthetic_violations(module, source, is_package, should_fail):
    found = violations(module, source, is_package)
    assert bool(found) == should_fail, found


def test_relative_imports_resolve_to_absolute_names():
    names = {name for _, name in imported_modules("optlab.plots.surface", "from ..trace import Trace")}
    assert names == {"optlab.trace", "optlab.trace.Trace"}
    names = {name for _, name in imported_modules("optlab.optim", "from .sgd import SGD", is_package=True)}
    assert names == {"optlab.optim.sgd", "optlab.optim.sgd.SGD"}


# --- the real project -------------------------------------------------------------------------------------------


def test_project_has_modules_to_scan():
    assert (ROOT / "optlab" / "__init__.py").exists()
    assert project_modules()


@pytest.mark.parametrize("path", project_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_respects_layering(path):
    source = path.read_text(encoding="utf-8")
    problems = violations(module_name(path), source, is_package=path.name == "__init__.py")
    assert not problems, "\n".join(problems)


def test_every_library_module_has_a_layer():
    """A new top-level module must be placed in LAYERS (above), so that its imports are checked too."""
    unplaced = [
        module_name(p) for p in sorted((ROOT / "optlab").rglob("*.py")) if rank_of(module_name(p)) is None
    ]
    assert not unplaced, f"add these modules to LAYERS in tests/test_layering.py: {unplaced}"
