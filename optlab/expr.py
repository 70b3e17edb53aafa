"""A loss surface from a typed formula in x and y, compiled through an AST whitelist to torch operations.

A formula is read in four passes, each refusing in the app's words and naming the column (1-based, in the text as
typed): a size check (characters and operations, before anything else is done), a tokenizer that knows only the
grammar below (so ``0x10``, ``1_000``, ``#`` comments, quotes and every other character are refused), a check of the
order of the tokens (missing operators, unbalanced parentheses, stray commas), and only then ``ast.parse(mode="eval")``,
whose nodes are checked against a short whitelist and turned into closures over torch operations. Nothing is ever
evaluated as Python (no eval, exec, sympy or numexpr).
What it leaves out: symbolic simplification, implicit products (write ``2*x``), comparisons and conditionals.

Grammar:

- numbers in decimal (``3``, ``0.5``, ``.5``, ``1.5e-3``, ``2E+4``), the constants ``pi`` and ``e``, the variables
  ``x`` and ``y``;
- ``+ - * /``, powers ``**`` or ``^`` (both mean power, right-associative), unary ``-`` and ``+``, parentheses;
- functions: sin, cos, tan, exp, log (also ln), log1p, sqrt, abs, tanh, sinh, cosh, arctan (also atan),
  sigmoid, and min(a, b, ...), max(a, b, ...) with 2 to 16 arguments;
- spaces between tokens; a pasted minus sign (−), times sign (×) or middle dot (·) reads as ``-`` or ``*``.

Limits, the same for the text box and for links, so that every formula the app accepts can be shared:
:data:`MAX_FORMULA_CHARS` characters and :data:`MAX_FORMULA_OPERATIONS` operations (each operator, each function
call and each comma between arguments counts one), and :data:`MAX_DEPTH` levels of nesting.

Every number is a float64 torch tensor, never a Python int, so ``9**9**9`` cannot hang. A part of the formula
without x or y is computed once, when it is compiled, and must come out finite (``2**1e9`` and ``log(0)`` are
refused); overflow and domain errors that depend on x and y give inf or nan, which a run reports as divergence.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from optlab import i18n
from optlab.surfaces import Point, Surface

__all__ = [
    "ALLOWED", "FUNCTIONS", "MAX_DEPTH", "MAX_FORMULA_CHARS", "MAX_FORMULA_OPERATIONS", "FormulaError",
    "PlotWindowError", "compile_formula", "formula_fits_in_link", "formula_latex", "formula_size_error",
    "surface_from_formula",
]

MAX_FORMULA_CHARS = 500  # characters, in the text box and in a link alike
MAX_FORMULA_OPERATIONS = 200  # operators + function calls + commas: what one evaluation costs
MAX_DEPTH = 100  # nested parentheses, and levels of operators and calls inside one another
MINIMUM_SEARCH_N = 101  # grid points per side on which surface_from_formula looks for the lowest point
_SCAN_LIMIT = 100 * MAX_FORMULA_CHARS  # a text longer than this is refused on its length alone, without a scan
# float64 (IEEE 754 binary64) ends at (2 - 2^-52) * 2^1023 ≈ 1.797e308; beyond it a number is inf
_FLOAT64_END = "float64 numbers end near 1.8e308"

# characters people paste from documents, mapped one-to-one so columns stay right
_LOOKALIKES = str.maketrans({"\u2212": "-", "\u00d7": "*", "\u00b7": "*", "\t": " ", "\n": " ", "\r": " "})


class FormulaError(ValueError):
    """A formula that cannot be used; the message says what is wrong, where (1-based column), and what would do."""


class PlotWindowError(FormulaError):
    """The plot window (or start point) given with a formula cannot be used; the formula itself may be fine."""


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
_ALIASES = {"ln": "log", "atan": "arctan"}

_CONSTANTS = {"pi": (math.pi, r"\pi"), "e": (math.e, "e")}
_VARIABLES = ("x", "y")

#: What a formula may contain, in the words every refusal ends with.
ALLOWED = (
    "A formula may use x and y; numbers such as 2, 0.5 or 1.5e-3; pi and e; + - * / and ** or ^; parentheses; "
    "and the functions " + ", ".join(f for f in FUNCTIONS if f not in _ALIASES) + "."
)

# ----------------------------------------------------------------------------------------------------------------
# Size: checked first, on the raw text
# ----------------------------------------------------------------------------------------------------------------

# The number pattern is the decimal part of Python's own literal grammar (The Python Language Reference, "Integer
# literals" and "Floating-point literals") without underscores, 0x/0o/0b prefixes or an imaginary j, so whatever
# it accepts, ast.parse reads as the same number.
_TOKEN_RE = re.compile(
    r"(?P<space> +)"
    r"|(?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|//|[-+*/^])"
    r"|(?P<punct>[(),])"
    r"|(?P<other>.)",
    re.DOTALL,
)


def _count_operations(text: str) -> int:
    """Operators (``1e-3`` holds none), function names and commas: one torch operation each, about."""
    n = 0
    for m in _TOKEN_RE.finditer(text):
        kind, tok = m.lastgroup, m.group()
        n += kind == "op" or tok == "," or (kind == "name" and tok in FUNCTIONS)
    return n


def formula_size_error(text: str) -> str | None:
    """Why ``text`` is too big to be a formula (too many characters or operations), or None when it fits.

    Costs one linear scan, and none at all beyond 100 times the character limit; nothing is parsed.
    """
    chars = len(text)
    ops = _count_operations(text.translate(_LOOKALIKES)) if chars <= _SCAN_LIMIT else None
    long_, big = chars > MAX_FORMULA_CHARS, ops is not None and ops > MAX_FORMULA_OPERATIONS
    if long_ and big:
        return (f"The formula has {chars:,} characters and {ops:,} operations; the limits are "
                f"{MAX_FORMULA_CHARS:,} characters and {MAX_FORMULA_OPERATIONS:,} operations. Shorten it.")
    if long_:
        return f"The formula has {chars:,} characters; the limit is {MAX_FORMULA_CHARS:,}. Shorten it."
    if big:
        return (f"The formula has {ops:,} operations; the limit is {MAX_FORMULA_OPERATIONS:,} (each operator, "
                "function call and comma between arguments counts one). Shorten it.")
    return None


def formula_fits_in_link(text: str) -> bool:
    """True when a link can carry ``text``: the text box and links share one size limit, checked here."""
    return isinstance(text, str) and formula_size_error(text) is None


# ----------------------------------------------------------------------------------------------------------------
# Tokens: only what the grammar knows, each with its column in the typed text
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "name", "op", "(", ")" or ","
    text: str  # as typed, after the look-alike mapping
    col: int  # 1-based column of its first character


def _quote(s: str, limit: int = 30) -> str:
    return "'" + (s if len(s) <= limit else s[: limit - 1] + "…") + "'"


def _describe(ch: str) -> str:
    """A character as a message shows it: itself when it is visible, its Unicode name as well when not ASCII."""
    name = unicodedata.name(ch, "")
    code = f"U+{ord(ch):04X}" + (f" {name}" if name else "")
    if ch == "'":
        return "\"'\""
    if ch.isascii() and ch.isprintable():
        return f"'{ch}'"
    if ch.isprintable() and not ch.isspace():
        return f"'{ch}' ({code})"
    return code  # invisible: a control character, a zero-width or non-breaking space


# typed instead of what the grammar spells in ASCII
_CHAR_HINTS = {
    "#": "comments are not part of a formula",
    "'": "text in quotes is not part of a formula",
    '"': "text in quotes is not part of a formula",
    "[": "use ( and ) for grouping",
    "]": "use ( and ) for grouping",
    "{": "use ( and ) for grouping",
    "}": "use ( and ) for grouping",
    "=": "type only the expression, as x**2 + y**2, without 'f =' or comparisons",
    "<": "comparisons are not part of a formula",
    ">": "comparisons are not part of a formula",
    "!": "comparisons are not part of a formula",
    "%": "the remainder operator is not supported",
    ".": "a point belongs only inside a number, as in 0.5",
    "\u03c0": "write pi",
    "\u00f7": "write / for division",
    "\u2013": "write - for minus",
    "\u2014": "write - for minus",
    "\u221a": "write sqrt(...)",
}


def _char_error(ch: str, col: int) -> FormulaError:
    hint = _CHAR_HINTS.get(ch)
    if hint is None and not ch.isascii():
        plain = unicodedata.normalize("NFKC", ch)
        if "SUPERSCRIPT" in unicodedata.name(ch, ""):
            hint = f"write a power with ^, as x^{plain}"
        elif plain.isspace() or unicodedata.category(ch) == "Cf":
            hint = "use a plain space"
        elif plain != ch and plain.isascii() and plain.isprintable():
            hint = f"type the plain {_quote(plain)}"
    if hint is None and ch in "&|~@;:$?`\\":
        hint = "this operator is not supported"
    detail = f" ({hint})" if hint else ""
    return FormulaError(f"The character {_describe(ch)} at column {col} is not allowed{detail}. {ALLOWED}")


def _number_error(text: str, start: int, end: int) -> FormulaError | None:
    """What is wrong with the number ``text[start:end]`` given what follows it, or None when it is a number."""
    number, col = text[start:end], start + 1
    after = text[end] if end < len(text) else ""
    word = re.match(r"[A-Za-z0-9_.]*", text[end:]).group()
    literal = number + word
    if after == "_" or (after.isalnum() and "_" in word):
        return FormulaError(f"The number {_quote(literal)} at column {col} has an underscore; numbers are written "
                            f"without separators, as {_quote(literal.replace('_', ''))}. {ALLOWED}")
    if after == ".":
        return FormulaError(f"The number {_quote(literal)} at column {col} has more than one decimal point.")
    if number == "0" and re.fullmatch(r"[xXoObB][0-9A-Fa-f]+", word):
        base = {"x": 16, "o": 8, "b": 2}[word[0].lower()]
        try:
            hint = f"; here {int(word[1:], base)}" if len(word) <= 20 else ""
        except ValueError:
            hint = ""
        return FormulaError(f"The number {_quote(literal)} at column {col} is written in hexadecimal, octal or "
                            f"binary; write numbers in decimal{hint}. {ALLOWED}")
    if word in ("j", "J"):
        return FormulaError(f"The number {_quote(literal)} at column {col} is complex; only real numbers are allowed.")
    if after in "eE" and after:
        return FormulaError(
            f"The text {_quote(literal)} at column {col} is not a number: an exponent needs digits, as in 1e3 or 2.5e-4; "
            f"for a product write {number}*{word}."
        )
    if after.isascii() and after.isalpha():
        return FormulaError(f"An operator is missing after the number {_quote(number)} at column {col}: write "
                            f"{number}*{word} for a product.")
    value = float(number)  # a decimal of at most a few hundred digits: read in one go, inf when too large
    if math.isinf(value):
        return FormulaError(f"The number {_quote(number, 16)} at column {col} is too large: {_FLOAT64_END}.")
    return None


def _name_error(name: str, col: int, called: bool) -> FormulaError:
    known = [f for f in FUNCTIONS if f not in _ALIASES]
    lower = name.lower()
    if called:
        if lower in FUNCTIONS:
            return FormulaError(f"Unknown function {_quote(name)} at column {col}: function names are lower case, "
                                f"write {lower}(...).")
        if name in _VARIABLES or name in _CONSTANTS:
            return FormulaError(f"The name {_quote(name)} at column {col} is not a function: write {name}*(...) "
                                "for a product.")
        return FormulaError(f"Unknown function {_quote(name)} at column {col}. The functions are "
                            f"{', '.join(known)}.")
    if lower in _VARIABLES or lower in _CONSTANTS:
        return FormulaError(f"Unknown name {_quote(name)} at column {col}: names are lower case, write {lower}.")
    if set(name) <= {"x", "y"}:
        return FormulaError(f"Unknown name {_quote(name)} at column {col}: write {'*'.join(name)} for a product.")
    if name in FUNCTIONS:
        return FormulaError(f"The name {_quote(name)} at column {col} is a function: write {name}(...).")
    return FormulaError(f"Unknown name {_quote(name)} at column {col}: the variables are x and y, the "
                        f"constants pi and e. {ALLOWED}")


def _tokens(text: str) -> Iterator[_Token]:
    """The tokens of ``text`` (look-alikes mapped, as long as typed), in order; refuses the first that is not one."""
    for m in _TOKEN_RE.finditer(text):
        kind, tok, col = m.lastgroup, m.group(), m.start() + 1
        if kind == "space":
            continue
        if kind == "other":
            raise _char_error(tok, col)
        if kind == "number":
            error = _number_error(text, m.start(), m.end())
            if error is not None:
                raise error
        elif kind == "name":
            called = text[m.end():].lstrip(" ").startswith("(")
            if tok in FUNCTIONS:
                if not called:
                    raise _name_error(tok, col, called=False)
            elif tok not in _VARIABLES and tok not in _CONSTANTS:
                raise _name_error(tok, col, called)
        elif tok == "//":
            raise FormulaError(f"The operator '//' at column {col} is not supported: write / for division.")
        yield _Token(tok if kind == "punct" else kind, tok, col)


def _check_order(stream: Iterable[_Token]) -> list[_Token]:
    """The tokens, checked as they come (so the first problem from the left is the one named): operands and
    operators alternate, parentheses balance, and commas stand only between the arguments of a call."""
    tokens: list[_Token] = []
    stack: list[_Token] = []  # open "(": a call's when the token before it is a function name
    calls: list[bool] = []
    want_operand = True
    prev: _Token | None = None
    for t in stream:
        tokens.append(t)
        where = f"at column {t.col}"
        if want_operand:
            if t.kind == "number" or (t.kind == "name" and t.text not in FUNCTIONS):
                want_operand = False
            elif t.kind == "name":  # a function: its "(" follows (the tokenizer checked)
                pass
            elif t.kind == "(":
                stack.append(t)
                calls.append(prev is not None and prev.kind == "name")
                if len(stack) > MAX_DEPTH:
                    raise FormulaError(f"Parentheses nest more than {MAX_DEPTH} deep {where}; simplify the formula.")
            elif t.kind == "op" and t.text in "+-":
                pass  # a leading sign
            elif t.kind == ")" and prev is not None and prev.kind == "(":
                if not calls[-1]:
                    raise FormulaError(f"Empty parentheses '()' {where}: put an expression inside.")
                stack.pop()  # sin(): the compiler counts the arguments and says how many it takes
                calls.pop()
                want_operand = False
            elif t.kind == ")" and not stack:
                raise FormulaError(f"The ')' {where} has no matching '('.")
            elif prev is None:
                raise FormulaError(f"The formula starts with {_quote(t.text)} {where}: put a number, x or y "
                                   "before it.")
            else:
                what = "an argument" if "," in (t.kind, prev.kind) else "a number, x, y or a bracket"
                raise FormulaError(f"Something is missing between {_quote(prev.text)} and {_quote(t.text)} "
                                   f"{where}: {what} should stand there.")
        elif t.kind == "op":
            want_operand = True
        elif t.kind == ")":
            if not stack:
                raise FormulaError(f"The ')' {where} has no matching '('.")
            stack.pop()
            calls.pop()
        elif t.kind == ",":
            if not calls or not calls[-1]:
                raise FormulaError(f"The comma {where} is not between the arguments of a function: commas "
                                   "separate arguments, as in min(x, y) or max(x, y, 0).")
            want_operand = True
        elif prev.kind == "name" and t.kind == "(":
            raise _name_error(prev.text, prev.col, called=True)
        else:
            left = "(...)" if prev.kind == ")" else prev.text
            right = {"(": "(...)", "name": t.text + ("(...)" if t.text in FUNCTIONS else "")}.get(t.kind, t.text)
            raise FormulaError(f"An operator is missing between {_quote(prev.text)} and {_quote(t.text)} {where}: "
                               f"write {left}*{right} for a product.")
        prev = t
    if prev is None:
        raise FormulaError("The formula is empty: type an expression in x and y, for example x**2 + 3*y**2.")
    if want_operand:
        raise FormulaError(f"The formula stops in the middle: something is missing after {_quote(prev.text)} at "
                           f"column {prev.col}.")
    if stack:
        more = f" ({len(stack)} are open)" if len(stack) > 1 else ""
        raise FormulaError(f"The '(' at column {stack[-1].col} is never closed{more}: add ')'.")
    return tokens


def _python_integer(digits: str) -> str:
    """An integer as Python reads it, as long as typed: Python refuses ``007``, so it becomes ``7e00``."""
    kept = digits.lstrip("0") or "0"
    zeros = len(digits) - len(kept)
    return digits if zeros == 0 else kept + ("." if zeros == 1 else "e" + "0" * (zeros - 1))


def _source(tokens: list[_Token]) -> tuple[str, list[int]]:
    """The text ``ast.parse`` reads (``^`` as ``**``), and the typed column of each of its characters."""
    out: list[str] = []
    columns: list[int] = []
    for t in tokens:
        text = t.text
        if t.kind == "op" and text == "^":
            text = "**"
        elif t.kind == "number" and text.isdigit():
            text = _python_integer(text)
        out.append(text + " ")
        columns += [t.col + min(i, len(t.text) - 1) for i in range(len(text))] + [t.col + len(t.text)]
    return "".join(out), columns


def _parse(text: str) -> tuple[ast.Expression, list[int]]:
    """The checked, parsed formula and its column map (index in the parsed text -> 1-based typed column)."""
    if not isinstance(text, str):
        raise FormulaError(f"The formula must be text, not {type(text).__name__}.")
    size = formula_size_error(text)
    if size:
        raise FormulaError(size)
    tokens = _check_order(_tokens(text.translate(_LOOKALIKES)))
    source, columns = _source(tokens)
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # the checks above leave nothing for these
        raise FormulaError(f"The formula could not be read. {ALLOWED}") from None
    return tree, columns


# ----------------------------------------------------------------------------------------------------------------
# Compiling the parsed tree to closures
# ----------------------------------------------------------------------------------------------------------------

# LaTeX precedence: an operand printed inside an operator of higher precedence gets parentheses
_ATOM, _POW, _UNARY, _MUL, _ADD = 5, 4, 3, 2, 1


@dataclass(frozen=True)
class _Compiled:
    fn: Node
    latex: str
    prec: int
    uses_vars: bool
    value: Tensor | None = None  # set when the part has no x or y: computed once, at compile time


def _constant(value: Tensor, latex: str, prec: int = _ATOM) -> _Compiled:
    return _Compiled(lambda x, y: value, latex, prec, False, value)


class _Compiler:
    """Walks the parsed tree once, checking each node against the whitelist and building closures."""

    def __init__(self, columns: list[int], typed: str):
        self.columns = columns  # parsed-text index -> 1-based column in the text the user typed
        self.typed = typed  # the text as typed, for quoting a part of it

    def column(self, node: ast.AST) -> int:
        offset = getattr(node, "col_offset", 0)
        return self.columns[min(offset, len(self.columns) - 1)]

    def part(self, first: ast.AST, last: ast.AST) -> str:
        """The typed text from ``first``'s start to ``last``'s end."""
        end = self.columns[min(max(last.end_col_offset - 1, 0), len(self.columns) - 1)]
        return self.typed[self.column(first) - 1 : end]

    def check_finite(self, value: Tensor, first: ast.AST, last: ast.AST) -> None:
        v = float(value)
        if math.isfinite(v):
            return
        where = f"The part {_quote(self.part(first, last), 40)} at column {self.column(first)}"
        rule = "every part of a formula without x or y must come out as a finite number"
        if math.isnan(v):
            raise FormulaError(f"{where} has no numeric value (it is NaN, as 0/0 or sqrt(-1) are); {rule}.")
        sign = "-" if v < 0 else "+"
        raise FormulaError(f"{where} is {sign}infinity ({_FLOAT64_END}); {rule}.")

    def compile(self, node: ast.AST, depth: int) -> _Compiled:
        if depth > MAX_DEPTH:
            raise FormulaError(f"The formula nests operators and functions more than {MAX_DEPTH} levels deep "
                               f"(level {MAX_DEPTH + 1} starts at column {self.column(node)}); simplify it.")
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            out = self.chain(node, depth, (ast.Add, ast.Sub))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Div):
            out = self.chain(node, depth, (ast.Mult, ast.Div))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            out = self.power(node, depth)
        elif isinstance(node, ast.UnaryOp):
            out = self.unary(node, depth)
        elif isinstance(node, ast.Call):
            out = self.call(node, depth)
        else:  # the tokenizer admits nothing else; this is a second guard
            raise FormulaError(f"The formula could not be read at column {self.column(node)}. {ALLOWED}")
        if out.uses_vars or out.value is not None:
            return out
        # no x or y below: compute it now, once (children are constants and never read x, y)
        value = out.fn(None, None)  # type: ignore[arg-type]
        self.check_finite(value, node, node)
        return _constant(value, out.latex, out.prec)

    def constant(self, node: ast.Constant) -> _Compiled:
        v = node.value
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise FormulaError(f"The formula could not be read at column {self.column(node)}. {ALLOWED}")
        try:
            value = float(v)
        except OverflowError:  # an integer too large for a float; the tokenizer refuses these first
            value = math.inf
        c = torch.tensor(value, dtype=torch.float64)
        self.check_finite(c, node, node)
        return _constant(c, _number_latex(value))

    def name(self, node: ast.Name) -> _Compiled:
        if node.id == "x":
            return _Compiled(lambda x, y: x, "x", _ATOM, True)
        if node.id == "y":
            return _Compiled(lambda x, y: y, "y", _ATOM, True)
        if node.id in _CONSTANTS:
            value, tex = _CONSTANTS[node.id]
            return _constant(torch.tensor(value, dtype=torch.float64), tex)
        raise _name_error(node.id, self.column(node), called=False)

    def chain(self, node: ast.BinOp, depth: int, ops: tuple[type, ...]) -> _Compiled:
        # a + b - c + ... parses as a left-leaning tree; walk its spine in a loop, not by recursion
        tail: list[tuple[ast.operator, ast.AST]] = []
        head: ast.AST = node
        while isinstance(head, ast.BinOp) and isinstance(head.op, ops):
            tail.append((head.op, head.right))
            head = head.left
        tail.reverse()
        first = self.compile(head, depth + 1)
        rest = [(type(op), self.compile(right, depth + 1), right) for op, right in tail]
        additive = ops[0] is ast.Add
        prec = _ADD if additive else _MUL

        if additive:
            parts = [_wrap(first, _ADD - 1)]
            for op, c, _ in rest:
                # a − b needs parentheses around b when b is itself a sum
                parts.append(("+ " if op is ast.Add else "- ") + _wrap(c, _ADD if op is ast.Sub else _ADD - 1))
            latex = " ".join(parts)
        else:
            # a unary minus leads a product without parentheses; a fraction needs none around its numerator
            latex = first.latex if rest[0][0] is ast.Div else _wrap(first, _MUL if first.prec == _UNARY else _ADD)
            for op, c, _ in rest:
                if op is ast.Div:
                    latex = rf"\frac{{{latex}}}{{{c.latex}}}"
                else:
                    latex = latex + r" \cdot " + _wrap(c, _MUL)
            if rest[-1][0] is ast.Div:
                prec = _ATOM  # the whole product is one \frac{..}{..}

        # 2 * 3 * x: fold the leading constants in the order the formula computes them, checking each result
        while rest and first.value is not None and rest[0][1].value is not None:
            op, c, right = rest.pop(0)
            value = _BINARY[op](first.value, c.value)
            self.check_finite(value, head, right)
            first = _constant(value, first.latex)

        def fn(x: Tensor, y: Tensor) -> Tensor:
            out = first.fn(x, y)
            for op, c, _ in rest:
                out = _BINARY[op](out, c.fn(x, y))
            return out

        if not rest:
            return _constant(first.value, latex, prec)
        return _Compiled(fn, latex, prec, first.uses_vars or any(c.uses_vars for _, c, _ in rest))

    def power(self, node: ast.BinOp, depth: int) -> _Compiled:
        # a ** b ** c is a ** (b ** c): the tree leans right, so walk its right spine in a loop
        operands: list[ast.AST] = []
        cur: ast.AST = node
        while isinstance(cur, ast.BinOp) and isinstance(cur.op, ast.Pow):
            operands.append(cur.left)
            cur = cur.right
        operands.append(cur)
        compiled = [self.compile(o, depth + 1) for o in operands]
        last = operands[-1]

        latex = compiled[-1].latex
        for c in reversed(compiled[:-1]):
            latex = f"{{{_wrap(c, _POW)}}}^{{{latex}}}"

        # x ** 2 ** 1e9: fold the trailing constants, from the right as the formula computes them
        while len(compiled) > 1 and compiled[-1].value is not None and compiled[-2].value is not None:
            value = torch.pow(compiled[-2].value, compiled[-1].value)
            self.check_finite(value, operands[len(compiled) - 2], last)
            compiled[-2:] = [_constant(value, "")]
        if len(compiled) == 1:
            return _constant(compiled[0].value, latex, _POW)

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
                raise FormulaError(f"The formula could not be read at column {self.column(cur)}. {ALLOWED}")
            cur = cur.operand
        inner = self.compile(cur, depth + 1)
        if sign == 1:
            return inner
        return _Compiled(lambda x, y: -inner.fn(x, y), "-" + _wrap(inner, _UNARY), _UNARY, inner.uses_vars)

    def call(self, node: ast.Call, depth: int) -> _Compiled:
        spec = FUNCTIONS.get(node.func.id) if isinstance(node.func, ast.Name) else None
        if spec is None or node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise FormulaError(f"The formula could not be read at column {self.column(node)}. {ALLOWED}")
        name, n = node.func.id, len(node.args)
        if not spec.min_args <= n <= spec.max_args:
            if spec.min_args == spec.max_args:
                want = f"{spec.min_args} argument" + ("s" if spec.min_args != 1 else "")
            else:
                want = f"{spec.min_args} to {spec.max_args} arguments"
            raise FormulaError(f"The function {name}() at column {self.column(node)} takes {want}; it was given {n}.")
        args = [self.compile(a, depth + 1) for a in node.args]
        torch_fn = spec.torch_fn
        latex = spec.latex.format(", ".join(a.latex for a in args))
        return _Compiled(
            lambda x, y: torch_fn(*(a.fn(x, y) for a in args)), latex, _ATOM, any(a.uses_vars for a in args)
        )


# a + b, a - b, a * b, a / b on tensors, as the formula's left-to-right chains compute them
_BINARY: dict[type, Callable[[Tensor, Tensor], Tensor]] = {
    ast.Add: torch.add, ast.Sub: torch.sub, ast.Mult: torch.mul, ast.Div: torch.div,
}


def _wrap(c: _Compiled, outer: int) -> str:
    """c's LaTeX, parenthesized when its precedence is not above ``outer``."""
    return c.latex if c.prec > outer else rf"\left({c.latex}\right)"


def _number_latex(value: float) -> str:
    text = f"{value:g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
    return text


def _compile(text: str) -> _Compiled:
    tree, columns = _parse(text)
    try:
        return _Compiler(columns, text).compile(tree.body, depth=1)
    except RecursionError:  # MAX_DEPTH keeps far below the limit; this is a last guard
        raise FormulaError(f"The formula nests too deeply (more than {MAX_DEPTH} levels); simplify it.") from None


def compile_formula(text: str) -> Callable[[Tensor], Tensor]:
    """Compiles ``text`` (in x and y) into ``fn(xy)``: points ``(..., 2)`` -> values ``(...)``.

    The result is differentiable, computed in ``xy``'s dtype, and has the batch shape even for a formula
    without variables (``"3"`` is a flat surface). Raises :class:`FormulaError` for anything outside the
    grammar and limits in the module docstring.
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


def _check_window(bounds: tuple[tuple[float, float], tuple[float, float]]) -> None:
    for axis, (lo, hi) in zip("xy", bounds, strict=True):
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise PlotWindowError(f"The plot window's {axis} min and {axis} max must be finite numbers; got "
                                  f"{lo:g} and {hi:g}.")
        if not lo < hi:
            raise PlotWindowError(f"The plot window needs {axis} min < {axis} max; got {axis} min = {lo:g} and "
                                  f"{axis} max = {hi:g}.")


def surface_from_formula(
    text: str,
    bounds: tuple[tuple[float, float], tuple[float, float]] = ((-3.0, 3.0), (-3.0, 3.0)),
    start: tuple[float, float] | None = None,
) -> Surface:
    """A :class:`~optlab.surfaces.Surface` for a typed formula.

    Its key is ``"custom"``, its one minimum the lowest point of a 101 x 101 grid (kind ``"approximate"``), and
    ``log_levels`` is chosen from the spread of the values. Without ``start`` the run starts near the corner of
    the window farthest from that lowest point. Raises :class:`FormulaError` for the formula, and its subclass
    :class:`PlotWindowError` for a window or start point that cannot be used.
    """
    compiled = _compile(text)
    _check_window(bounds)
    (x0, x1), (y0, y1) = bounds
    if start is not None and not all(math.isfinite(v) for v in start):
        raise PlotWindowError(f"The start point must be finite; got ({start[0]:g}, {start[1]:g}).")
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
    xs, ys, z = surface.grid(MINIMUM_SEARCH_N)
    finite = np.isfinite(z)
    if not finite.any():
        raise FormulaError(i18n.t("The formula has no finite value at any of the {n} x {n} grid points of the plot "
                                  "window; choose another window or change the formula.", n=MINIMUM_SEARCH_N))
    i, j = np.unravel_index(np.argmin(np.where(finite, z, np.inf)), z.shape)
    lowest = Point(float(xs[j]), float(ys[i]), float(z[i, j]), "approximate")
    if start is None:
        corners = [(x0 + a * (x1 - x0), y0 + b * (y1 - y0)) for a in (0.15, 0.85) for b in (0.15, 0.85)]
        start = max(corners, key=lambda c: math.hypot(c[0] - lowest.x, c[1] - lowest.y))
    return dataclasses.replace(
        surface,
        minima=(lowest,),
        start=(float(start[0]), float(start[1])),
        log_levels=_choose_log_levels(z),
    )
