"""Tests for optlab.surfaces: minima against the published tables (Jamil and Yang 2013), autograd gradients and Hessians, shapes, grids."""

import math

import numpy as np
import pytest
import torch
from torch.autograd.functional import hessian

from optlab.surfaces import SURFACES, Point, Surface, get_surface, quadratic

REFERENCE_KEYS = [
    "rosenbrock", "beale", "himmelblau", "six_hump_camel", "three_hump_camel", "booth",
    "goldstein_price", "rastrigin", "ackley", "banana", "saddle", "quadratic",
]

# (surface, x, y, f, decimals printed in the published tables for x/y, decimals printed for f), copied from its table
REFERENCE_MINIMA = [
    ("rosenbrock", 1.0, 1.0, 0.0, 6, 6),
    ("beale", 3.0, 0.5, 0.0, 6, 6),
    ("himmelblau", 3.0, 2.0, 0.0, 6, 6),
    ("himmelblau", -2.805118, 3.131313, 0.0, 6, 6),
    ("himmelblau", -3.779310, -3.283186, 0.0, 6, 6),
    ("himmelblau", 3.584428, -1.848127, 0.0, 6, 6),
    ("six_hump_camel", 0.089842, -0.712656, -1.03163, 6, 5),
    ("six_hump_camel", -0.089842, 0.712656, -1.03163, 6, 5),
    ("three_hump_camel", 0.0, 0.0, 0.0, 6, 6),
    ("booth", 1.0, 3.0, 0.0, 6, 6),
    ("goldstein_price", 0.0, -1.0, 3.0, 6, 6),
    ("rastrigin", 0.0, 0.0, 0.0, 6, 6),
    ("ackley", 0.0, 0.0, 0.0, 6, 6),
    ("banana", 1.0, 1 / 3, 0.0, 6, 6),
]

ALL_POINTS = [
    pytest.param(key, p, id=f"{key}-{p.kind}-{i}")
    for key, s in SURFACES.items()
    for i, p in enumerate(s.minima + s.points)
]


def _grad(surface: Surface, x: float, y: float) -> torch.Tensor:
    w = torch.tensor([x, y], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(surface(w), w)
    return g


def _hessian_eigs(surface: Surface, x: float, y: float) -> np.ndarray:
    h = hessian(surface.fn, torch.tensor([x, y], dtype=torch.float64))
    return torch.linalg.eigvalsh(h).numpy()


def test_catalog_has_every_reference_surface():
    assert set(REFERENCE_KEYS) <= set(SURFACES)
    for key, s in SURFACES.items():
        assert s.key == key
        assert s.name and s.latex and s.description
        (x0, x1), (y0, y1) = s.bounds
        assert x0 < s.start[0] < x1 and y0 < s.start[1] < y1, key
        for p in s.minima:
            assert x0 <= p.x <= x1 and y0 <= p.y <= y1, (key, p)


@pytest.mark.parametrize("key, x, y, f, xy_dec, f_dec", REFERENCE_MINIMA)
def test_reference_minimum_is_listed_with_its_value(key, x, y, f, xy_dec, f_dec):
    s = SURFACES[key]
    globals_ = [p for p in s.minima if p.kind == "global"]
    match = min(globals_, key=lambda p: math.hypot(p.x - x, p.y - y))
    # the stored point rounds to the tables' digits, its value too
    assert match.x == pytest.approx(x, abs=0.51 * 10**-xy_dec)
    assert match.y == pytest.approx(y, abs=0.51 * 10**-xy_dec)
    assert match.value == pytest.approx(f, abs=0.51 * 10**-f_dec)
    # and the function itself agrees at the tables' (rounded) coordinates
    value = s(torch.tensor([x, y], dtype=torch.float64)).item()
    assert value == pytest.approx(f, abs=0.51 * 10**-f_dec)


def test_himmelblau_local_maximum_matches_reference():
    (peak,) = [p for p in SURFACES["himmelblau"].points if p.kind == "max"]
    assert (peak.x, peak.y) == pytest.approx((-0.270845, -0.923039), abs=5.1e-7)
    assert peak.value == pytest.approx(181.617, abs=5.1e-4)


def test_saddle_has_no_minima_but_lists_the_saddle():
    s = SURFACES["saddle"]
    assert s.minima == ()
    assert s.min_value is None
    assert [(p.x, p.y, p.kind) for p in s.points] == [(0.0, 0.0, "saddle")]
    # unbounded below along y
    assert s(torch.tensor([0.0, 100.0])).item() == -10000.0


@pytest.mark.parametrize("key, point", ALL_POINTS)
def test_listed_points_are_critical_points_with_the_right_curvature(key, point: Point):
    s = SURFACES[key]
    value = s(torch.tensor([point.x, point.y], dtype=torch.float64)).item()
    assert value == pytest.approx(point.value, abs=1e-9)
    g = _grad(s, point.x, point.y)
    assert torch.isfinite(g).all()
    assert g.abs().max().item() < 1e-7
    if key == "ackley":
        return  # the cone at the origin has no Hessian
    eigs = _hessian_eigs(s, point.x, point.y)
    expected_signs = {"global": (1, 1), "local": (1, 1), "saddle": (-1, 1), "max": (-1, -1)}[point.kind]
    assert tuple(np.sign(eigs)) == expected_signs


@pytest.mark.parametrize("key", [k for k, s in SURFACES.items() if s.minima])
def test_no_grid_point_is_below_the_global_minimum(key):
    s = SURFACES[key]
    _, _, z = s.grid(120)
    assert z.min() >= s.min_value - 1e-9
    assert {p.value for p in s.global_minima} == {s.min_value}


# (surface, the Hessian eigenvalues at the minimum and the decimals they are given to)
REFERENCE_HESSIANS = [
    ("rosenbrock", (0.3994, 1001.6), (4, 1)),
    ("banana", (1.383, 520.6), (3, 1)),
    ("booth", (2.0, 18.0), (6, 6)),
]


@pytest.mark.parametrize("key, eigs, decimals", REFERENCE_HESSIANS)
def test_hessian_eigenvalues_match_reference_and_autograd(key, eigs, decimals):
    s = SURFACES[key]
    stored = s.hessian_eigs
    for value, expected, dec in zip(stored, eigs, decimals, strict=True):
        assert value == pytest.approx(expected, abs=0.51 * 10**-dec)
    p = s.global_minima[0]
    np.testing.assert_allclose(_hessian_eigs(s, p.x, p.y), stored, rtol=1e-12)


def test_rosenbrock_and_beale_condition_numbers():
    lo, hi = SURFACES["rosenbrock"].hessian_eigs
    assert hi / lo == pytest.approx(2508, abs=1)
    lo, hi = SURFACES["beale"].hessian_eigs
    assert hi / lo == pytest.approx(162.5, abs=0.05)
    np.testing.assert_allclose(_hessian_eigs(SURFACES["beale"], 3.0, 0.5), (lo, hi), rtol=1e-12)


@pytest.mark.parametrize(
    "kappa, angle, lam_max",
    [(100.0, 0.0, 1.0), (10.0, 30.0, 2.0), (1.0, 45.0, 0.5), (1000.0, -60.0, 1.0)],
)
def test_quadratic_is_half_wAw_with_the_requested_eigenvalues(kappa, angle, lam_max):
    s = quadratic(kappa, angle, lam_max)
    assert s.hessian_eigs == pytest.approx((lam_max / kappa, lam_max), rel=1e-12)
    np.testing.assert_allclose(_hessian_eigs(s, 0.3, -0.7), s.hessian_eigs, rtol=1e-9, atol=1e-15)
    t = math.radians(angle)
    r = torch.tensor([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]], dtype=torch.float64)
    a = r @ torch.diag(torch.tensor([lam_max / kappa, lam_max], dtype=torch.float64)) @ r.T
    w = torch.randn(7, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    expected = 0.5 * torch.einsum("bi,ij,bj->b", w, a, w)
    torch.testing.assert_close(s(w), expected)
    # the low-curvature direction is the first column of R: f grows by λ_min/2 along it
    assert s(r[:, 0]).item() == pytest.approx(0.5 * lam_max / kappa)


def test_quadratic_kappa_100_is_the_worked_example():
    assert get_surface("quadratic", kappa=100).hessian_eigs == pytest.approx((0.01, 1.0))
    assert SURFACES["quadratic"].hessian_eigs == pytest.approx((0.1, 1.0))


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"kappa": 0.5}, "kappa"),
        ({"lam_max": 0.0}, "lam_max"),
        ({"lam_max": -1.0}, "lam_max"),
        ({"kappa": float("nan")}, "kappa"),
        ({"angle_deg": float("inf")}, "angle_deg"),
        ({"beta": 1.0}, "beta"),
    ],
)
def test_quadratic_rejects_bad_parameters(params, fragment):
    with pytest.raises(ValueError, match=fragment):
        get_surface("quadratic", **params)


def test_get_surface_names_the_choices():
    assert get_surface("rosenbrock") is SURFACES["rosenbrock"]
    with pytest.raises(ValueError, match="rosenbrock") as info:
        get_surface("nope")
    assert "nope" in str(info.value)
    with pytest.raises(ValueError, match="no parameters"):
        get_surface("booth", kappa=3)


@pytest.mark.parametrize("key", list(SURFACES))
@pytest.mark.parametrize("shape", [(), (5,), (3, 4)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_batched_shapes_and_dtypes(key, shape, dtype):
    s = SURFACES[key]
    (x0, x1), (y0, y1) = s.bounds
    gen = torch.Generator().manual_seed(1)
    u = torch.rand(*shape, 2, generator=gen, dtype=torch.float64)
    pts = torch.stack([x0 + (x1 - x0) * u[..., 0], y0 + (y1 - y0) * u[..., 1]], dim=-1)
    out = s(pts.to(dtype))
    assert out.shape == shape
    assert out.dtype == dtype
    ref = s(pts)
    torch.testing.assert_close(out.double(), ref, rtol=1e-4, atol=1e-4)
    # each batched value equals the value of that point alone
    flat = pts.reshape(-1, 2)
    singles = torch.stack([s(p) for p in flat])
    torch.testing.assert_close(ref.reshape(-1), singles)


@pytest.mark.parametrize("key", list(SURFACES))
def test_gradients_are_finite_everywhere_on_the_grid(key):
    s = SURFACES[key]
    (x0, x1), (y0, y1) = s.bounds
    xs = torch.linspace(x0, x1, 21, dtype=torch.float64)
    ys = torch.linspace(y0, y1, 21, dtype=torch.float64)
    pts = torch.cartesian_prod(xs, ys).requires_grad_(True)
    (g,) = torch.autograd.grad(s(pts).sum(), pts)
    assert torch.isfinite(g).all()


def test_ackley_gradient_at_the_origin_is_zero_not_nan():
    g = _grad(SURFACES["ackley"], 0.0, 0.0)
    assert g.tolist() == [0.0, 0.0]
    # away from the origin it matches the analytic derivative of the cone term plus the cosine term
    x, y = 0.3, -0.2
    r = math.sqrt(0.5 * (x * x + y * y))
    c = math.exp(0.5 * (math.cos(2 * math.pi * x) + math.cos(2 * math.pi * y)))
    dx = 20 * math.exp(-0.2 * r) * 0.2 * (0.5 * x / r) + c * math.pi * math.sin(2 * math.pi * x)
    assert _grad(SURFACES["ackley"], x, y)[0].item() == pytest.approx(dx, rel=1e-12)


def test_grid_orientation_rows_are_y_columns_are_x():
    s = SURFACES["rosenbrock"]  # not symmetric in x and y, and non-square bounds
    xs, ys, z = s.grid(n=37)
    assert xs.shape == (37,) and ys.shape == (37,) and z.shape == (37, 37)
    assert z.dtype == np.float64
    assert (xs[0], xs[-1]) == s.bounds[0] and (ys[0], ys[-1]) == s.bounds[1]
    for i, j in [(0, 36), (5, 20), (36, 0), (17, 3)]:
        expected = (1 - xs[j]) ** 2 + 100 * (ys[i] - xs[j] ** 2) ** 2
        assert z[i, j] == pytest.approx(expected, rel=1e-12)


def test_grid_rejects_tiny_sizes():
    with pytest.raises(ValueError, match="grid size"):
        SURFACES["booth"].grid(1)


def test_nearest_minimum_distance():
    s = SURFACES["himmelblau"]
    mins = np.array([(p.x, p.y) for p in s.minima])
    np.testing.assert_allclose(s.nearest_minimum_distance(mins), 0.0, atol=1e-15)
    pts = np.array([[[3.0, 5.0], [0.0, 0.0]]])  # shape (1, 2, 2)
    d = s.nearest_minimum_distance(pts)
    assert d.shape == (1, 2)
    brute = np.min(np.linalg.norm(pts[..., None, :] - mins, axis=-1), axis=-1)
    np.testing.assert_allclose(d, brute)
    assert d[0, 0] == pytest.approx(3.0)  # (3, 5) is 3 above the minimum (3, 2)
    assert np.isinf(SURFACES["saddle"].nearest_minimum_distance(np.zeros((4, 2)))).all()
    with pytest.raises(ValueError, match="shape"):
        s.nearest_minimum_distance(np.zeros((4, 3)))


def test_surfaces_are_immutable():
    with pytest.raises(AttributeError):
        SURFACES["booth"].start = (0.0, 0.0)


# --- surfaces declare their parameters -------------------------------------------------------------------------

PARAMETERISED = [s for s in SURFACES.values() if s.params]


def test_a_parameterised_entry_is_its_factory_at_the_declared_defaults():
    assert PARAMETERISED, "the catalog declares at least one parameterised surface"
    for entry in PARAMETERISED:
        assert [name for name, _ in entry.values] == [p.name for p in entry.params]
        assert dict(entry.values) == {p.name: p.default for p in entry.params}
        for p in entry.params:
            assert p.min <= p.default <= p.max
        rebuilt = get_surface(entry.key, **{p.name: p.default for p in entry.params})
        w = torch.randn(9, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
        torch.testing.assert_close(rebuilt(w), entry(w))


@pytest.mark.parametrize("entry", PARAMETERISED, ids=lambda s: s.key)
def test_every_declared_parameter_reaches_the_surface(entry):
    for p in entry.params:
        other = p.max if p.default != p.max else p.min
        built = get_surface(entry.key, **{p.name: other})
        assert dict(built.values)[p.name] == other
        assert {k: v for k, v in built.values if k != p.name} == {q.name: q.default for q in entry.params if q != p}


@pytest.mark.parametrize(
    "name, value",
    [("kappa", 10_001.0), ("kappa", 0.99), ("angle_deg", 90.5), ("angle_deg", -91.0), ("lam_max", 0.0),
     ("kappa", "10"), ("kappa", True), ("angle_deg", float("nan"))],
)
def test_a_value_outside_its_declared_range_is_refused_with_the_range(name, value):
    p = next(q for q in SURFACES["quadratic"].params if q.name == name)
    with pytest.raises(ValueError) as info:
        get_surface("quadratic", **{name: value})
    text = str(info.value)
    assert name in text and f"{p.min:g}" in text and f"{p.max:g}" in text and "Traceback" not in text


def test_quadratic_keeps_its_direct_call():
    s = quadratic(100.0, 30.0)
    assert s.hessian_eigs == pytest.approx((0.01, 1.0))
    assert dict(s.values) == {"kappa": 100.0, "angle_deg": 30.0, "lam_max": 1.0}
    assert [p.url_key for p in s.params] == ["kappa", "angle", None]


def test_nearest_minimum_names_the_minimum_and_its_distance():
    s = SURFACES["himmelblau"]
    pts = np.array([[[3.1, 2.0], [-2.8, 3.0]], [[0.0, 0.0], [3.6, -1.9]]])  # (2, 2, 2)
    index, distance = s.nearest_minimum(pts)
    mins = np.array([(p.x, p.y) for p in s.minima])
    brute = np.array([[min(range(4), key=lambda m: np.hypot(*(q - mins[m]))) for q in row] for row in pts])
    np.testing.assert_array_equal(index, brute)
    np.testing.assert_allclose(distance, np.linalg.norm(pts - mins[brute], axis=-1), rtol=1e-15)
    none_index, none_distance = SURFACES["saddle"].nearest_minimum(np.zeros((3, 2)))
    assert (none_index == -1).all() and np.isinf(none_distance).all()
