"""Tests for optlab.expr: the grammar against torch, error messages, and hostile input that must never run."""

import ast
import builtins
import math
import os
import subprocess
import time

import numpy as np
import pytest
import torch

from optlab.expr import MAX_DEPTH, FormulaError, compile_formula, formula_latex, surface_from_formula
from optlab.surfaces import SURFACES

GEN = torch.Generator().manual_seed(0)
PTS = (torch.rand(6, 5, 2, generator=GEN, dtype=torch.float64) * 2 - 1) * 2.5  # points in [-2.5, 2.5]²
X, Y = PTS[..., 0], PTS[..., 1]

# (formula, the same thing written directly in torch)
VALID = [
    ("x", lambda x, y: x),
    ("x + y", lambda x, y: x + y),
    ("x - y - 1", lambda x, y: x - y - 1),
    ("x - (y - 1)", lambda x, y: x - (y - 1)),
    ("2*x*y / 3 / (1 + y**2)", lambda x, y: 2 * x * y / 3 / (1 + y**2)),
    ("x**2 + 3*y**2", lambda x, y: x**2 + 3 * y**2),
    ("x^2 + 3*y^2", lambda x, y: x**2 + 3 * y**2),
    ("2**x**2", lambda x, y: 2 ** (x**2)),
    ("-x**2", lambda x, y: -(x**2)),
    ("(-x)**2", lambda x, y: x**2),
    ("--+-x", lambda x, y: -x),
    ("1e-3*x + 2.5E2*y", lambda x, y: 1e-3 * x + 250.0 * y),
    ("pi*x + e*y", lambda x, y: math.pi * x + math.e * y),
    ("sin(x)*cos(y) + tan(x/3)", lambda x, y: torch.sin(x) * torch.cos(y) + torch.tan(x / 3)),
    ("exp(-x**2) + log(1 + y**2) + ln(3 + x)", lambda x, y: torch.exp(-(x**2)) + torch.log(1 + y**2)
     + torch.log(3 + x)),
    ("sqrt(x**2 + y**2 + 1) + abs(x - y)", lambda x, y: torch.sqrt(x**2 + y**2 + 1) + torch.abs(x - y)),
    ("tanh(x) + sinh(y) + cosh(x*y)", lambda x, y: torch.tanh(x) + torch.sinh(y) + torch.cosh(x * y)),
    ("arctan(x) + atan(y)", lambda x, y: torch.atan(x) + torch.atan(y)),
    ("sigmoid(x) + log1p(y**2)", lambda x, y: torch.sigmoid(x) + torch.log1p(y**2)),
    ("min(x, y) + max(x, y, 0.5)", lambda x, y: torch.minimum(x, y) + torch.maximum(torch.maximum(x, y),
                                                                                    torch.tensor(0.5))),
    ("(1 - x)^2 + 100*(y - x^2)^2", lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2),
    ("x\t+\ny", lambda x, y: x + y),
    ("x \u2212 2\u00d7y", lambda x, y: x - 2 * y),  # a pasted minus sign and times sign
]


@pytest.mark.parametrize("text, expected", VALID, ids=[t for t, _ in VALID])
def test_formula_matches_torch(text, expected):
    fn = compile_formula(text)
    torch.testing.assert_close(fn(PTS), expected(X, Y))


@pytest.mark.parametrize("text", ["x**2 * y + sin(x*y)", "max(x, 2*y) - abs(x)", "x"])
def test_gradients_match_autograd_of_the_torch_expression(text):
    torch_fns = {"x**2 * y + sin(x*y)": lambda x, y: x**2 * y + torch.sin(x * y),
                 "max(x, 2*y) - abs(x)": lambda x, y: torch.maximum(x, 2 * y) - torch.abs(x),
                 "x": lambda x, y: x}
    pts = PTS.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(compile_formula(text)(pts).sum(), pts)
    pts2 = PTS.clone().requires_grad_(True)
    (g2,) = torch.autograd.grad(torch_fns[text](pts2[..., 0], pts2[..., 1]).sum(), pts2)
    torch.testing.assert_close(g, g2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
def test_constant_formula_has_batch_shape_dtype_and_a_gradient(dtype, shape):
    fn = compile_formula("3 * pi")
    pts = torch.zeros(*shape, 2, dtype=dtype, requires_grad=True)
    out = fn(pts)
    assert out.shape == shape and out.dtype == dtype
    assert torch.all(out == torch.tensor(3 * math.pi, dtype=dtype))
    (g,) = torch.autograd.grad(out.sum(), pts)
    assert torch.all(g == 0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_result_follows_input_dtype(dtype):
    out = compile_formula("0.1 * x + y")(PTS.to(dtype))
    assert out.dtype == dtype
    torch.testing.assert_close(out, (0.1 * X + Y).to(dtype))
    assert compile_formula("x + 1")(torch.tensor([1.0, 2.0], dtype=dtype)).dtype == dtype  # 0-d batch


def test_formula_only_in_x_has_zero_y_gradient():
    pts = PTS.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(compile_formula("x**3")(pts).sum(), pts)
    torch.testing.assert_close(g[..., 0], 3 * X**2)
    assert torch.all(g[..., 1] == 0)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("foo(x)", "unknown function 'foo' at column 1"),
        ("x + foo(x)", "unknown function 'foo' at column 5"),
        ("x + z", "found 'z' at column 5"),
        ("x + 2 +", "syntax error at the end of the formula"),
        ("x y", "syntax error at column 3"),
        ("x)", "syntax error at column 2"),
        ("x +* 3", "syntax error at column 4"),
        ("(x + 1", "syntax error at column 1"),
        ("2x", "write 2*x"),
        ("sin", "'sin' is a function"),
        ("sin(x, y)", "sin() takes 1 argument, got 2"),
        ("max(x)", "max() takes 2 or more arguments, got 1"),
        ("sin(x=1)", "keyword arguments"),
        ("x.real", "attribute access"),
        ("x[0]", "indexing"),
        ("x % 2", "operator '%'"),
        ("x // 2", "operator '//'"),
        ("~x", "operator '~'"),
        ("not x", "operator 'not'"),
        ("x < y", "comparisons"),
        ("x and y", "'and' / 'or'"),
        ("x if y else 1", "'if ... else'"),
        ("lambda: 1", "lambda"),
        ("[x for x in y]", "comprehensions"),
        ('"a"', "text in quotes"),
        ("b'a'", "bytes"),
        ("f'{x}'", "f-strings"),
        ("1j", "complex"),
        ("True + x", "True"),
        ("x, y", "tuples"),
        ("sin(*x)", "'*' unpacking"),
        ("(x := 1)", "':='"),
        ("x ^ ^ y", "syntax error at column 5"),
        ("9" * 5000, "too many digits"),
    ],
)
def test_bad_formulas_give_clear_messages(text, fragment):
    with pytest.raises(FormulaError) as info:
        compile_formula(text)
    assert fragment in str(info.value)


def test_formula_error_is_a_value_error():
    assert issubclass(FormulaError, ValueError)


def test_columns_count_in_the_typed_text_after_a_caret():
    # "^" becomes "**" before parsing; the column must still point into what was typed
    with pytest.raises(FormulaError, match="found 'z' at column 7"):
        compile_formula("x^2 + z")


NESTED = "(" * 5000 + "x" + ")" * 5000
HOSTILE = [
    "__import__('os').system('touch /tmp/optlab_pwned')",
    "().__class__.__bases__[0].__subclasses__()",
    "x.real",
    "lambda: 1",
    "[x for x in y]",
    "open('f')",
    "eval('1')",
    "exec('1')",
    "getattr(x, 'real')",
    "globals()",
    '"a"',
    "x if y else 1",
    "x < y",
    NESTED,
    "sin(" * 3000 + "x" + ")" * 3000,
    "x" + "+x" * 5000,
    "-" * 9999 + "x",
    "x" + "**x" * 3000,
    "9" * 5000,
    "\uff58 + y",  # fullwidth x: Python would read it as x
    "x\u200b + y",  # zero-width space
    "x + y\x00",
    "x" * 10_000,
    "x" * 10_001,
    "(" * 10_000,
    "1" + "*1" * 4999,
]


@pytest.fixture
def sentinel(monkeypatch):
    """Records any attempt to evaluate code, run a command or open a file while a formula is handled."""
    calls = []
    real_compile = builtins.compile

    def guarded_compile(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:
            calls.append(("compile", source))
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    def record(name):
        return lambda *a, **k: calls.append((name, a))

    monkeypatch.setattr(builtins, "compile", guarded_compile)
    monkeypatch.setattr(builtins, "eval", record("eval"))
    monkeypatch.setattr(builtins, "exec", record("exec"))
    monkeypatch.setattr(builtins, "open", record("open"))
    monkeypatch.setattr(os, "system", record("os.system"))
    monkeypatch.setattr(subprocess, "Popen", record("Popen"))
    return calls


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_is_refused_quickly_and_runs_nothing(text, sentinel):
    t0 = time.perf_counter()
    try:
        surface = surface_from_formula(text)
    except FormulaError as e:
        assert str(e)
    else:  # only genuinely valid formulas may get through, and they must evaluate
        assert set(text) <= set("x+*1")
        assert surface.fn(torch.zeros(3, 2)).shape == (3,)
    assert time.perf_counter() - t0 < 1.0
    assert sentinel == []
    assert not os.path.exists("/tmp/optlab_pwned")


def test_sentinel_would_notice_evaluation(sentinel):
    builtins.eval("1")  # the patched one
    assert sentinel == [("eval", ("1",))]


@pytest.mark.parametrize(
    "text, expected",
    [("9**9**9**9", math.inf), ("1e999", math.inf), ("-1e999", -math.inf), ("10**400", math.inf),
     ("1" + "0" * 400, math.inf), ("log(0)", -math.inf), ("1/0", math.inf)],
)
def test_overflow_gives_inf_not_a_hang(text, expected):
    t0 = time.perf_counter()
    out = compile_formula(text)(torch.zeros(4, 2, dtype=torch.float64))
    assert time.perf_counter() - t0 < 1.0
    assert torch.all(out == expected)


def test_domain_errors_give_nan():
    assert torch.isnan(compile_formula("sqrt(x)")(torch.tensor([[-1.0, 0.0]]))).all()


def test_nesting_limit_is_a_formula_error_not_recursion_error():
    ok = "(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH
    torch.testing.assert_close(compile_formula(ok)(PTS), X)
    with pytest.raises(FormulaError, match="nested"):
        compile_formula("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(FormulaError, match="nests too deeply"):
        compile_formula("sin(-" * 60 + "x" + ")" * 60)  # within the parenthesis limit, too deep as a tree


def test_long_sums_are_fine_below_the_parser_limit():
    text = " + ".join(f"{k}*x" for k in range(1, 301))
    torch.testing.assert_close(compile_formula(text)(PTS), sum(range(1, 301)) * X)


def test_non_text_is_refused():
    with pytest.raises(FormulaError, match="text"):
        compile_formula(3)


@pytest.mark.parametrize(
    "text, latex",
    [
        ("x^2 + 3*y^2", "{x}^{2} + 3 \\cdot {y}^{2}"),
        ("x - (y - 1)", "x - \\left(y - 1\\right)"),
        ("(x+1)/y", "\\frac{x + 1}{y}"),
        ("-sqrt(x)", "-\\sqrt{x}"),
        ("1e-3*x", "0.001 \\cdot x"),
        ("2e10", "2 \\cdot 10^{10}"),
    ],
)
def test_latex_rendering(text, latex):
    assert formula_latex(text) == latex


def test_surface_from_formula_finds_the_lowest_grid_point():
    s = surface_from_formula("(x - 1)^2 + 100*(y - 0.5)^2 + 2")
    assert s.key == "custom" and s.name == "Custom: (x - 1)^2 + 100*(y - 0.5)^2 + 2"
    (p,) = s.minima
    assert p.kind == "approximate"
    assert (p.x, p.y) == pytest.approx((1.0, 0.5), abs=0.03)  # grid spacing 0.06
    assert p.value == pytest.approx(2.0, abs=0.1)
    xs, ys, z = s.grid(101)
    assert p.value == pytest.approx(np.nanmin(z))
    (x0, x1), (y0, y1) = s.bounds
    assert x0 <= s.start[0] <= x1 and y0 <= s.start[1] <= y1
    assert math.hypot(s.start[0] - p.x, s.start[1] - p.y) > 2.0


def test_surface_from_formula_agrees_with_the_catalog_and_picks_log_levels():
    rosen = surface_from_formula("(1 - x)^2 + 100*(y - x^2)^2", bounds=((-2, 2), (-1, 3)))
    ref = SURFACES["rosenbrock"]
    for n in (11, 40):
        np.testing.assert_allclose(rosen.grid(n)[2], ref.grid(n)[2], rtol=1e-12)
    assert rosen.minima[0].x == pytest.approx(1.0) and rosen.minima[0].y == pytest.approx(1.0)
    assert rosen.log_levels is True
    assert surface_from_formula("x^2 + y^2").log_levels is False
    assert surface_from_formula("20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)").log_levels is False


def test_surface_from_formula_keeps_a_given_start_and_a_constant_surface_works():
    s = surface_from_formula("3", start=(0.5, -0.5))
    assert s.start == (0.5, -0.5)
    assert s.grid(5)[2].shape == (5, 5) and np.all(s.grid(5)[2] == 3.0)
    assert s.log_levels is False


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"text": "log(-1 - x**2)"}, "no finite value"),
        ({"text": "x", "bounds": ((1, -1), (0, 1))}, "xmin < xmax"),
        ({"text": "x", "bounds": ((0, math.inf), (0, 1))}, "finite"),
        ({"text": "x", "start": (math.nan, 0.0)}, "start"),
        ({"text": "x +"}, "syntax error"),
    ],
)
def test_surface_from_formula_refuses_bad_input(kwargs, fragment):
    with pytest.raises(FormulaError, match=fragment):
        surface_from_formula(**kwargs)


def test_a_long_valid_formula_is_searched_on_a_coarser_grid():
    text = " + ".join(["sin(x*y)*cos(y)"] * 200) + " + (x - 1)^2"
    s = surface_from_formula(text)
    (p,) = s.minima
    xs = np.linspace(-3, 3, 41)
    assert p.x in xs and p.y in xs  # a point of the 41 x 41 grid
    assert p.value == pytest.approx(compile_formula(text)(torch.tensor([p.x, p.y])).item(), rel=1e-5)
