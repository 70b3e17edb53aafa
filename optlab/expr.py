"""A loss surface from a typed formula in x and y, compiled through an AST whitelist to torch operations.

The text is parsed with ``ast.parse(mode="eval")`` and each node is checked against a short whitelist and turned
into a closure over torch operations; nothing is ever evaluated as Python (no eval, exec, sympy or numexpr).
What it leaves out: symbolic simplification, implicit products (write ``2*x``), comparisons and conditionals.

Grammar:

- numbers (``3``, ``0.5``, ``1e-3``), the constants ``pi`` and ``e``, the variables ``x`` and ``y``;
- ``+ - * /``, powers ``**`` or ``^`` (both mean power), unary ``-`` and ``+``, parentheses;
- functions: sin, cos, tan, exp, log (also ln), log1p, sqrt, abs, tanh, sinh, cosh, arctan (also atan),
  sigmoid, and min(a, b, ...), max(a, b, ...).

Every number is a float64 torch tensor, never a Python int, so ``9**9**9`` is inf, not a hang. Overflow and
domain errors give inf or nan, which a run reports as divergence.
"""

from __future__ import annotations

import ast
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from optlab.surfaces import Point, Surface

__all__ = ["FormulaError", "compile_formula", "surface_from_formula", "FUNCTIONS", "MAX_LENGTH", "MAX_DEPTH"]

MAX_LENGTH = 10_000  # characters
MAX_DEPTH = 100  # nested parentheses / function calls / operators of different kinds
GRID_N = 101  # grid used by surface_from_formula to locate the lowest point
COARSE_GRID_N = 41  # the same for formulas with more than LARGE_FORMULA_NODES nodes
LARGE_FORMULA_NODES = 500

# characters people paste from documents, mapped one-to-one so columns stay right
_LOOKALIKES = {"\u2212": "-", "\u00d7": "*", "\u00b7": "*", "\t": " ", "\n": " ", "\r": " "}


class FormulaError(ValueError):
    """A formula that cannot be used; the message names the problem and where it is (1-based column)."""


Node = Callable[[Tensor, Tensor], Tensor]  # (x, y) -> value


@dataclass(frozen=True)
class _Fn:
    """A whitelisted function: its torch implementation, how many arguments, how it prints in LaTeX."""

    torch_fn: Callable[..., Tensor]
    latex: str  # "{0}" is the argument list
    min_args: int = 1
    max_args: int = 1


def _reduce(op: Callable[[Tensor, Tensor], Tensor]) -> Callable[..., Tensor]:
    def fn(*args: Tensor) -> Tensor:
        out = args[0]
        for a in args[1:]:
            out = op(out, a)
        return out

    return fn


FUNCTIONS: dict[str, _Fn] = {
    "sin": _Fn(torch.sin, r"\sin\left({0}\right)"),
    "cos": _Fn(torch.cos, r"\cos\left({0}\right)"),
    "tan": _Fn(torch.tan, r"\tan\left({0}\right)"),
    "exp": _Fn(torch.exp, r"\exp\left({0}\right)"),
    "log": _Fn(torch.log, r"\log\left({0}\right)"),
    "ln": _Fn(torch.log, r"\ln\left({0}\right)"),
    "log1p": _Fn(torch.log1p, r"\log\left(1 + {0}\right)"),
    "sqrt": _Fn(torch.sqrt, r"\sqrt{{{0}}}"),
    "abs": _Fn(torch.abs, r"\left|{0}\right|"),
    "tanh": _Fn(torch.tanh, r"\tanh\left({0}\right)"),
    "sinh": _Fn(torch.sinh, r"\sinh\left({0}\right)"),
    "cosh": _Fn(torch.cosh, r"\cosh\left({0}\right)"),
    "arctan": _Fn(torch.atan, r"\arctan\left({0}\right)"),
    "atan": _Fn(torch.atan, r"\arctan\left({0}\right)"),
    "sigmoid": _Fn(torch.sigmoid, r"\sigma\left({0}\right)"),
    "min": _Fn(_reduce(torch.minimum), r"\min\left({0}\right)", 2, 16),
    "max": _Fn(_reduce(torch.maximum), r"\max\left({0}\right)", 2, 16),
}

_CONSTANTS = {"pi": (math.pi, r"\pi"), "e": (math.e, "e")}
_VARIABLES = ("x", "y")

# what to call the node types that are refused, so the message reads well
_REFUSED = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing with [ ]",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons",
    ast.BoolOp: "'and' / 'or'",
    ast.IfExp: "'if ... else'",
    ast.JoinedStr: "f-strings",
    ast.FormattedValue: "f-strings",
    ast.Starred: "'*' unpacking",
    ast.NamedExpr: "':='",
    ast.List: "lists",
    ast.Tuple: "tuples (a comma outside a function call)",
    ast.Set: "sets",
    ast.Dict: "dictionaries",
    ast.Await: "'await'",
    ast.Yield: "'yield'",
    ast.YieldFrom: "'yield'",
    ast.Slice: "slices",
}

_OPERATOR_SYMBOLS = {
    ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
    ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>", ast.Not: "not", ast.Invert: "~",
}

# LaTeX precedence: an operand printed inside an operator of higher precedence gets parentheses
_ATOM, _POW, _UNARY, _MUL, _ADD = 5, 4, 3, 2, 1


@dataclass(frozen=True)
class _Compiled:
    fn: Node
    latex: str
    prec: int
    uses_vars: bool


class _Compiler:
    """Walks the parsed tree once, checking each node against the whitelist and building closures."""

    def __init__(self, columns: list[int]):
        self.columns = columns  # parsed-text index -> 1-based column in the text the user typed
        self.nodes = 0  # how many nodes were compiled: a measure of the cost of one evaluation

    def column(self, node: ast.AST) -> int:
        offset = getattr(node, "col_offset", 0)
        return self.columns[min(offset, len(self.columns) - 1)]

    def fail(self, node: ast.AST, message: str, hint: str = "") -> FormulaError:
        return FormulaError(f"{message} at column {self.column(node)}{hint}")

    def compile(self, node: ast.AST, depth: int) -> _Compiled:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"the formula nests too deeply (more than {MAX_DEPTH} levels)")
        self.nodes += 1
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Add | ast.Sub):
                return self.chain(node, depth, (ast.Add, ast.Sub))
            if isinstance(node.op, ast.Mult | ast.Div):
                return self.chain(node, depth, (ast.Mult, ast.Div))
            if isinstance(node.op, ast.Pow):
                return self.power(node, depth)
            raise self.fail(node, f"operator '{_OPERATOR_SYMBOLS.get(type(node.op), '?')}' is not supported")
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        what = _REFUSED.get(type(node), type(node).__name__)
        raise self.fail(node, f"{what} not allowed")

    def constant(self, node: ast.Constant) -> _Compiled:
        v = node.value
        if isinstance(v, bool) or not isinstance(v, int | float):
            kind = {str: "text in quotes", bytes: "bytes", complex: "complex numbers"}.get(type(v), repr(v))
            raise self.fail(node, f"{kind} not allowed")
        try:
            value = float(v)
        except OverflowError:  # an integer literal too large for a float
            value = math.inf
        c = torch.tensor(value, dtype=torch.float64)
        return _Compiled(lambda x, y: c, _number_latex(value), _ATOM, False)

    def name(self, node: ast.Name) -> _Compiled:
        if node.id == "x":
            return _Compiled(lambda x, y: x, "x", _ATOM, True)
        if node.id == "y":
            return _Compiled(lambda x, y: y, "y", _ATOM, True)
        if node.id in _CONSTANTS:
            value, tex = _CONSTANTS[node.id]
            c = torch.tensor(value, dtype=torch.float64)
            return _Compiled(lambda x, y: c, tex, _ATOM, False)
        if node.id in FUNCTIONS:
            raise self.fail(node, f"'{node.id}' is a function: write {node.id}(...)")
        raise self.fail(node, f"only x and y are allowed, found '{node.id}'", " (constants: pi, e)")

    def chain(self, node: ast.BinOp, depth: int, ops: tuple[type, ...]) -> _Compiled:
        # a + b - c + ... parses as a left-leaning tree; walk its spine in a loop, not by recursion
        tail: list[tuple[ast.operator, ast.AST]] = []
        head: ast.AST = node
        while isinstance(head, ast.BinOp) and isinstance(head.op, ops):
            tail.append((head.op, head.right))
            head = head.left
        tail.reverse()
        first = self.compile(head, depth + 1)
        rest = [(type(op), self.compile(right, depth + 1)) for op, right in tail]
        additive = ops[0] is ast.Add
        prec = _ADD if additive else _MUL

        if additive:
            parts = [_wrap(first, _ADD - 1)]
            for op, c in rest:
                # a − b needs parentheses around b when b is itself a sum
                parts.append(("+ " if op is ast.Add else "- ") + _wrap(c, _ADD if op is ast.Sub else _ADD - 1))
            latex = " ".join(parts)
        else:
            # a unary minus leads a product without parentheses; a fraction needs none around its numerator
            latex = first.latex if rest[0][0] is ast.Div else _wrap(first, _MUL if first.prec == _UNARY else _ADD)
            for op, c in rest:
                if op is ast.Div:
                    latex = rf"\frac{{{latex}}}{{{c.latex}}}"
                else:
                    latex = latex + r" \cdot " + _wrap(c, _MUL)
            if rest[-1][0] is ast.Div:
                prec = _ATOM  # the whole product is one \frac{..}{..}

        def fn(x: Tensor, y: Tensor) -> Tensor:
            out = first.fn(x, y)
            for op, c in rest:
                v = c.fn(x, y)
                if op is ast.Add:
                    out = out + v
                elif op is ast.Sub:
                    out = out - v
                elif op is ast.Mult:
                    out = out * v
                else:
                    out = out / v
            return out

        return _Compiled(fn, latex, prec, first.uses_vars or any(c.uses_vars for _, c in rest))

    def power(self, node: ast.BinOp, depth: int) -> _Compiled:
        # a ** b ** c is a ** (b ** c): the tree leans right, so walk its right spine in a loop
        operands: list[ast.AST] = []
        cur: ast.AST = node
        while isinstance(cur, ast.BinOp) and isinstance(cur.op, ast.Pow):
            operands.append(cur.left)
            cur = cur.right
        operands.append(cur)
        compiled = [self.compile(o, depth + 1) for o in operands]

        latex = compiled[-1].latex
        for c in reversed(compiled[:-1]):
            latex = f"{{{_wrap(c, _POW)}}}^{{{latex}}}"

        def fn(x: Tensor, y: Tensor) -> Tensor:
            out = compiled[-1].fn(x, y)
            for c in reversed(compiled[:-1]):
                out = torch.pow(c.fn(x, y), out)  # float tensors only: 9**9**9 is inf, instantly
            return out

        return _Compiled(fn, latex, _POW, any(c.uses_vars for c in compiled))

    def unary(self, node: ast.UnaryOp, depth: int) -> _Compiled:
        sign = 1
        cur: ast.AST = node
        while isinstance(cur, ast.UnaryOp):
            if isinstance(cur.op, ast.USub):
                sign = -sign
            elif not isinstance(cur.op, ast.UAdd):
                raise self.fail(cur, f"operator '{_OPERATOR_SYMBOLS.get(type(cur.op), '?')}' is not supported")
            cur = cur.operand
        inner = self.compile(cur, depth + 1)
        if sign == 1:
            return inner
        return _Compiled(lambda x, y: -inner.fn(x, y), "-" + _wrap(inner, _UNARY), _UNARY, inner.uses_vars)

    def call(self, node: ast.Call, depth: int) -> _Compiled:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                raise self.fail(node.func, f"attribute access ('.{node.func.attr}') not allowed")
            raise self.fail(node, "only calls of the listed functions are allowed")
        name = node.func.id
        spec = FUNCTIONS.get(name)
        if spec is None:
            known = ", ".join(sorted(FUNCTIONS))
            raise self.fail(node, f"unknown function '{name}'", f" (known: {known})")
        if node.keywords:
            raise self.fail(node.keywords[0].value, f"keyword arguments are not allowed in {name}()")
        n = len(node.args)
        if not spec.min_args <= n <= spec.max_args:
            want = str(spec.min_args) if spec.min_args == spec.max_args else f"{spec.min_args} or more"
            raise self.fail(node, f"{name}() takes {want} argument{'s' if want != '1' else ''}, got {n}")
        args = [self.compile(a, depth + 1) for a in node.args]
        torch_fn = spec.torch_fn
        latex = spec.latex.format(", ".join(a.latex for a in args))
        return _Compiled(
            lambda x, y: torch_fn(*(a.fn(x, y) for a in args)), latex, _ATOM, any(a.uses_vars for a in args)
        )


def _wrap(c: _Compiled, outer: int) -> str:
    """c's LaTeX, parenthesized when its precedence is not above ``outer``."""
    return c.latex if c.prec > outer else rf"\left({c.latex}\right)"


def _number_latex(value: float) -> str:
    if math.isinf(value):
        return r"\infty"
    text = f"{value:g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
    return text


def _prepare(text: str) -> tuple[str, list[int]]:
    """Checks the raw text and rewrites ``^`` as ``**``; returns the text to parse and its column map."""
    if not isinstance(text, str):
        raise FormulaError(f"the formula must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is too long ({len(text)} characters, at most {MAX_LENGTH})")
    if not text.strip():
        raise FormulaError("the formula is empty: type an expression in x and y, for example x**2 + 3*y**2")
    out: list[str] = []
    columns: list[int] = []
    depth = 0
    for i, ch in enumerate(text):
        ch = _LOOKALIKES.get(ch, ch)
        col = i + 1
        if ch == "\x00":
            raise FormulaError(f"null byte at column {col}")
        if not (ch.isascii() and ch.isprintable()):
            raise FormulaError(f"unexpected character {ch!r} at column {col}")
        if ch in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise FormulaError(f"too many nested parentheses (more than {MAX_DEPTH}) at column {col}")
        elif ch in ")]}":
            depth -= 1
        if ch == "^":
            out.append("**")
            columns += [col, col]
        else:
            out.append(ch)
            columns.append(col)
    columns.append(len(text) + 1)  # the position just past the end, where "unexpected end" errors point
    return "".join(out), columns


def _parse(text: str) -> tuple[ast.Expression, list[int]]:
    source, columns = _prepare(text)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as e:
        msg = e.msg or ""
        if (not e.offset or e.offset < 1) and "digits" not in msg:
            # Python reports offset 0 when the text stops mid-expression
            raise FormulaError("syntax error at the end of the formula (it stops in the middle)") from None
        col = columns[min(max((e.offset or 1) - 1, 0), len(columns) - 1)]
        if "decimal literal" in msg:
            hint, reason = " (write 2*x for a product)", ""
        elif "digits" in msg:  # Python refuses integer literals longer than 4300 digits
            hint, reason = "", " (a number with too many digits; write 1e400 instead)"
        else:
            hint, reason = "", f" ({msg})" if msg else ""
        raise FormulaError(f"syntax error at column {col}{reason}{hint}") from None
    except (RecursionError, MemoryError):
        raise FormulaError(
            "the formula is nested too deeply or chains too many operations for the parser; simplify it"
        ) from None
    except ValueError as e:  # e.g. an integer literal with more than 4300 digits
        raise FormulaError(f"cannot read the formula: {e}") from None
    return tree, columns


def _compile(text: str) -> _Compiled:
    return _compile_counted(text)[0]


def _compile_counted(text: str) -> tuple[_Compiled, int]:
    """The compiled formula and its number of nodes."""
    tree, columns = _parse(text)
    compiler = _Compiler(columns)
    try:
        return compiler.compile(tree.body, depth=1), compiler.nodes
    except RecursionError:  # MAX_DEPTH keeps far below the limit; this is a last guard
        raise FormulaError("the formula is nested too deeply; simplify it") from None


def compile_formula(text: str) -> Callable[[Tensor], Tensor]:
    """Compiles ``text`` (in x and y) into ``fn(xy)``: points ``(..., 2)`` -> values ``(...)``.

    The result is differentiable, computed in ``xy``'s dtype, and has the batch shape even for a formula
    without variables (``"3"`` is a flat surface). Raises :class:`FormulaError` for anything outside the
    grammar in the module docstring.
    """
    return _as_surface_fn(_compile(text))


def formula_latex(text: str) -> str:
    """The formula as LaTeX, for showing back to the student what was understood."""
    return _compile(text).latex


def _as_surface_fn(compiled: _Compiled) -> Callable[[Tensor], Tensor]:
    node, uses_vars = compiled.fn, compiled.uses_vars

    def fn(xy: Tensor) -> Tensor:
        if xy.shape[-1:] != (2,):
            raise ValueError(f"points must have shape (..., 2), got {tuple(xy.shape)}")
        x, y = xy[..., 0], xy[..., 1]
        out = node(x, y)
        if not uses_vars:
            # a constant: give it the batch shape and a (zero) gradient path back to xy
            out = torch.where(torch.ones_like(x, dtype=torch.bool), out.to(x.dtype), x)
        return out.to(xy.dtype)

    return fn


def _choose_log_levels(z: np.ndarray) -> bool:
    """Log-scaled contours when half the window sits in the bottom 15% of the value range.

    Calibrated on the catalog: Rosenbrock, Beale, Booth, Goldstein–Price and the banana pass; a round bowl
    (x² + y², median at about a third of the range), Rastrigin and Ackley do not.
    """
    finite = z[np.isfinite(z)]
    lo, hi = finite.min(), finite.max()
    if hi - lo <= 0:
        return False
    median = np.median(finite) - lo
    return bool(median < 0.15 * (hi - lo))


def surface_from_formula(
    text: str,
    bounds: tuple[tuple[float, float], tuple[float, float]] = ((-3.0, 3.0), (-3.0, 3.0)),
    start: tuple[float, float] | None = None,
) -> Surface:
    """A :class:`~optlab.surfaces.Surface` for a typed formula.

    Its key is ``"custom"``, its one minimum the lowest point of a 101 x 101 grid (41 x 41 for a formula of more
    than 500 operations; kind ``"approximate"``), and
    ``log_levels`` is chosen from the spread of the values. Without ``start`` the run starts near the corner of
    the window farthest from that lowest point.
    """
    (x0, x1), (y0, y1) = bounds
    for v in (x0, x1, y0, y1):
        if not math.isfinite(v):
            raise FormulaError(f"the plot window must be finite, got {bounds}")
    if not (x0 < x1 and y0 < y1):
        raise FormulaError(f"the plot window needs xmin < xmax and ymin < ymax, got {bounds}")
    compiled, nodes = _compile_counted(text)
    fn = _as_surface_fn(compiled)
    label = " ".join(text.split())
    surface = Surface(
        key="custom",
        name=f"Custom: {label}",
        latex=compiled.latex,
        fn=fn,
        bounds=((float(x0), float(x1)), (float(y0), float(y1))),
        minima=(),
        start=(0.5 * (x0 + x1), 0.5 * (y0 + y1)),
        log_levels=False,
        description="A surface typed in by hand; its minimum is the lowest point found on a grid.",
    )
    # a formula thousands of operations long is searched on a coarser grid, so it still answers quickly
    xs, ys, z = surface.grid(GRID_N if nodes <= LARGE_FORMULA_NODES else COARSE_GRID_N)
    finite = np.isfinite(z)
    if not finite.any():
        raise FormulaError("the formula has no finite value inside the plot window")
    i, j = np.unravel_index(np.argmin(np.where(finite, z, np.inf)), z.shape)
    lowest = Point(float(xs[j]), float(ys[i]), float(z[i, j]), "approximate")
    if start is None:
        corners = [(x0 + a * (x1 - x0), y0 + b * (y1 - y0)) for a in (0.15, 0.85) for b in (0.15, 0.85)]
        start = max(corners, key=lambda c: math.hypot(c[0] - lowest.x, c[1] - lowest.y))
    elif not all(math.isfinite(v) for v in start):
        raise FormulaError(f"the start point must be finite, got {start}")
    return dataclasses.replace(
        surface,
        minima=(lowest,),
        start=(float(start[0]), float(start[1])),
        log_levels=_choose_log_levels(z),
    )
