"""Catalog of 2D loss surfaces: formula, plot bounds, known minima and a default start (no plotting, no runs).

Every surface is a torch function of batched points ``xy`` of shape ``(..., 2)`` returning values of shape
``(...)``, so autograd gives exact gradients and one call evaluates a whole contour grid. Minima were
recomputed with SciPy to about 1e-10 and agree with the standard tables of test functions (Jamil and Yang, "A
literature survey of benchmark functions for global optimization problems", 2013; Surjanovic and Bingham,
"Virtual Library of Simulation Experiments") to the digits they print.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from optlab.i18n import N_, t

__all__ = ["Point", "Surface", "SurfaceParam", "SURFACES", "get_surface", "quadratic"]


@dataclass(frozen=True)
class Point:
    """A notable point of a surface: ``kind`` is "global", "local", "saddle", "max" or "approximate"."""

    x: float
    y: float
    value: float
    kind: str = "global"


@dataclass(frozen=True)
class SurfaceParam:
    """One parameter a catalog surface declares: what its factory is called with, its range and how to show it.

    Args:
        name: the factory's argument (``get_surface(key, name=value)``), e.g. ``"angle_deg"``.
        label: the widget's text (marked for the catalog; show it with ``t(label)``).
        default: the value of the catalog entry itself.
        min, max: the allowed range, inclusive: ``get_surface`` refuses a value outside it, a link's decoder
            clamps into it, a widget offers exactly it.
        log: whether a slider should be log-scaled.
        url_key: the short name in a shared link (``"angle"``); None for a parameter the pages do not offer.
        step: a slider's step on a linear scale (None: the widget's own).
        help: one sentence for the widget's tooltip (marked, like ``label``).
    """

    name: str
    label: str
    default: float
    min: float
    max: float
    log: bool = False
    url_key: str | None = None
    step: float | None = None
    help: str = ""

    def check(self, surface_key: str, value: object) -> float:
        """The value as a float, or a ValueError that names the parameter and its range."""
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(t("Invalid {name} for {surface!r}: {value!r} (must be a finite number from {lo:g} to "
                               "{hi:g})", name=self.name, surface=surface_key, value=value, lo=self.min, hi=self.max))
        if not self.min <= value <= self.max:
            raise ValueError(t("Invalid {name} for {surface!r}: {value:g} (must be from {lo:g} to {hi:g})",
                               name=self.name, surface=surface_key, value=value, lo=self.min, hi=self.max))
        return float(value)


@dataclass(frozen=True)
class Surface:
    """One 2D test function with everything a page needs to draw it and start a run on it.

    Args:
        key: short identifier used in URLs and the registry, e.g. ``"rosenbrock"``.
        name: the name shown to students.
        latex: the formula as LaTeX.
        fn: batched points ``(..., 2)`` -> values ``(...)``, differentiable with torch autograd.
        bounds: ``((xmin, xmax), (ymin, ymax))``, the window that makes a good picture.
        minima: known minima (global and the notable local ones) with their values.
        start: a default start point that gives an instructive run.
        log_levels: True when the values span decades, so contours read better on a log scale.
        description: one or two sentences for students.
        points: other notable points (saddles, maxima).
        hessian_eigs: Hessian eigenvalues at the global minimum, smallest first, when known.
        params: the parameters a parameterised entry declares (``SurfaceParam``); empty for a fixed surface.
        factory: builds the surface from its parameters' values (keyword arguments named as ``params``).
        values: the parameter values this surface was built with, in the order of ``params``.
    """

    key: str
    name: str
    latex: str
    fn: Callable[[Tensor], Tensor]
    bounds: tuple[tuple[float, float], tuple[float, float]]
    minima: tuple[Point, ...]
    start: tuple[float, float]
    log_levels: bool
    description: str
    points: tuple[Point, ...] = ()
    hessian_eigs: tuple[float, float] | None = None
    params: tuple[SurfaceParam, ...] = ()
    factory: Callable[..., Surface] | None = None
    values: tuple[tuple[str, float], ...] = ()

    def __call__(self, xy: Tensor) -> Tensor:
        return self.fn(xy)

    @property
    def global_minima(self) -> tuple[Point, ...]:
        """The minima whose kind is "global" (or "approximate" for a typed formula)."""
        return tuple(p for p in self.minima if p.kind in ("global", "approximate"))

    @property
    def min_value(self) -> float | None:
        """The lowest known value (None when the surface lists no minimum, e.g. the saddle)."""
        return min((p.value for p in self.minima), default=None)

    def grid(self, n: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Values on an ``n`` x ``n`` grid over ``bounds``, in float64.

        Returns ``xs`` (n,), ``ys`` (n,) and ``Z`` (n, n) with ``Z[i, j] = f(xs[j], ys[i])``: rows follow y and
        columns follow x, the layout Plotly's ``go.Contour(x=xs, y=ys, z=Z)`` expects.
        """
        if n < 2:
            raise ValueError(f"Invalid grid size: {n} (need at least 2)")
        (x0, x1), (y0, y1) = self.bounds
        xs = torch.linspace(x0, x1, n, dtype=torch.float64)
        ys = torch.linspace(y0, y1, n, dtype=torch.float64)
        yy, xx = torch.meshgrid(ys, xs, indexing="ij")  # yy[i, j] = ys[i], xx[i, j] = xs[j]
        with torch.no_grad():
            z = self.fn(torch.stack([xx, yy], dim=-1))
        z = torch.broadcast_to(z, (n, n))  # a constant formula returns a smaller tensor
        return xs.numpy(), ys.numpy(), z.numpy().astype(np.float64)

    def nearest_minimum(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each point ``(..., 2)``: the index into ``minima`` of the closest listed minimum (Euclidean) and the
        distance to it. Without listed minima: index -1 and distance inf."""
        pts = np.asarray(pts, dtype=np.float64)
        if pts.shape[-1:] != (2,):
            raise ValueError(t("points must have shape (..., 2), got {shape}", shape=pts.shape))
        if not self.minima:
            return np.full(pts.shape[:-1], -1, dtype=np.int64), np.full(pts.shape[:-1], np.inf)
        mins = np.array([(p.x, p.y) for p in self.minima], dtype=np.float64)  # (m, 2)
        d = np.linalg.norm(pts[..., None, :] - mins, axis=-1)  # (..., m) distance to each minimum
        index = d.argmin(axis=-1)
        return index, np.take_along_axis(d, index[..., None], axis=-1)[..., 0]

    def nearest_minimum_distance(self, pts: np.ndarray) -> np.ndarray:
        """Euclidean distance from each point ``(..., 2)`` to the closest listed minimum; inf if none."""
        return self.nearest_minimum(pts)[1]


# --- the formulas: xy[..., 0] is x, xy[..., 1] is y -------------------------------------------------------


def _xy(xy: Tensor) -> tuple[Tensor, Tensor]:
    return xy[..., 0], xy[..., 1]


def _rosenbrock(xy: Tensor) -> Tensor:
    x, y = _xy(xy)
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2  # (1 − x)² + 100(y − x²)²


def _beale(xy: Tensor) -> Tensor:
    x, y = _xy(xy)
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _himmelblau(xy: Tensor) -> Tensor:
    x, y = _xy(xy)
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def _six_hump_camel(xy: Tensor) -> Tensor:
    x, y = _xy(xy)
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


def _three_hump_camel(xy: Tensor) -> Tensor:
    x, y = _xy(xy)
    return 2 * x**2 - 1.05 * x**4 + x**6 / 6 + x * y + y**2


def _booth(xy: Tensor) -> Tensor:
    x, y = _xy(xy)
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


def _goldstein_price(xy: Tensor) -> Tensor:
    x, y = _xy(xy)
    a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    return a * b


def _rastrigin(xy: Tensor) -> Tensor:
    # 10·n + Σ (xᵢ² − 10 cos 2πxᵢ), n = 2
    return 20 + (xy**2 - 10 * torch.cos(2 * math.pi * xy)).sum(dim=-1)


def _safe_sqrt(s: Tensor) -> Tensor:
    """√s with gradient 0 (a valid subgradient) at s = 0 instead of NaN: the "double where" trick."""
    positive = s > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, s, torch.ones_like(s))), torch.zeros_like(s))


def _ackley(xy: Tensor) -> Tensor:
    # −20 exp(−0.2 √(½(x² + y²))) − exp(½(cos 2πx + cos 2πy)) + e + 20
    r = _safe_sqrt(0.5 * (xy**2).sum(dim=-1))
    c = 0.5 * torch.cos(2 * math.pi * xy).sum(dim=-1)
    return -20 * torch.exp(-0.2 * r) - torch.exp(c) + math.e + 20


def _banana(xy: Tensor) -> Tensor:
    x, y = _xy(xy)
    return (1 - x) ** 2 + 20 * (3 * y - x**2) ** 2  # Distill's "Why Momentum Really Works" banana


def _saddle(xy: Tensor) -> Tensor:
    x, y = _xy(xy)
    return x**2 - y**2


# --- the quadratic bowl of the theory (Goh, Distill 2017) --------------------------------------------------

#: The quadratic's parameters: κ on a log scale (1 to 10⁴ spans what a student can see converge at all), the
#: rotation of its eigenvectors, and λ_max (library only).
QUADRATIC_PARAMS = (
    SurfaceParam("kappa", N_("condition number κ"), 10.0, 1.0, 10_000.0, log=True, url_key="kappa",
                 help=N_("λ_max / λ_min of the Hessian: how much more the bowl curves across than along")),
    SurfaceParam("angle_deg", N_("rotation (degrees)"), 0.0, -90.0, 90.0, url_key="angle", step=1.0),
    SurfaceParam("lam_max", N_("largest eigenvalue λ_max"), 1.0, 1e-6, 1e6, log=True),
)


def quadratic(kappa: float = 10.0, angle_deg: float = 0.0, lam_max: float = 1.0) -> Surface:
    """The quadratic bowl f(w) = ½ wᵀAw, A = R diag(λ_max/κ, λ_max) Rᵀ, R the rotation by ``angle_deg``.

    The minimum is the origin, the Hessian is A everywhere, so ``hessian_eigs = (λ_max/κ, λ_max)``.
    ``quadratic(100)`` (λ = 0.01 and 1) is the worked example of Goh, "Why Momentum Really Works", Distill 2017.

    Args:
        kappa: condition number κ = λ_max/λ_min, at least 1.
        angle_deg: rotation of the eigenvectors away from the axes, in degrees.
        lam_max: the largest eigenvalue λ_max > 0.
    """
    for name, value in (("kappa", kappa), ("angle_deg", angle_deg), ("lam_max", lam_max)):
        if not math.isfinite(value):
            raise ValueError(f"Invalid {name}: {value} (must be finite)")
    if kappa < 1:
        raise ValueError(f"Invalid kappa: {kappa} (the condition number is at least 1)")
    if lam_max <= 0:
        raise ValueError(f"Invalid lam_max: {lam_max} (must be positive)")
    lam_min = lam_max / kappa
    t = math.radians(angle_deg)
    c, s = math.cos(t), math.sin(t)
    # A = R diag(λ_min, λ_max) Rᵀ with R = [[c, −s], [s, c]]
    a11 = lam_min * c * c + lam_max * s * s
    a12 = (lam_min - lam_max) * c * s
    a22 = lam_min * s * s + lam_max * c * c

    def fn(xy: Tensor) -> Tensor:
        x, y = _xy(xy)
        return 0.5 * (a11 * x * x + 2 * a12 * x * y + a22 * y * y)  # ½ wᵀAw

    angle_text = f", {angle_deg:g}°" if angle_deg else ""
    return Surface(
        key="quadratic",
        name=f"Quadratic (κ = {kappa:g}{angle_text})",
        latex=r"\tfrac{1}{2}\, w^\top A w,\quad A = R_\theta \operatorname{diag}(\lambda_{\max}/\kappa,\ "
        r"\lambda_{\max}) R_\theta^\top",
        fn=fn,
        bounds=((-3.0, 3.0), (-3.0, 3.0)),
        minima=(Point(0.0, 0.0, 0.0),),
        start=(-2.5, 2.0),
        log_levels=kappa >= 10,
        description=(
            N_("A bowl whose curvature differs by a factor κ between two directions. Theory predicts exactly how "
               "fast gradient descent and momentum converge here, so it is the place to check them.")
        ),
        hessian_eigs=(lam_min, lam_max),
        params=QUADRATIC_PARAMS,
        factory=quadratic,
        values=(("kappa", float(kappa)), ("angle_deg", float(angle_deg)), ("lam_max", float(lam_max))),
    )


# --- the catalog -------------------------------------------------------------------------------------------

_SURFACE_LIST: tuple[Surface, ...] = (
    Surface(
        key="rosenbrock",
        name="Rosenbrock",
        latex=r"(1 - x)^2 + 100\,(y - x^2)^2",
        fn=_rosenbrock,
        bounds=((-2.0, 2.0), (-1.0, 3.0)),
        minima=(Point(1.0, 1.0, 0.0),),
        start=(-1.5, 2.0),
        log_levels=True,
        description=(
            N_("A long curved valley: finding the valley is easy, following it to (1, 1) is slow. "
               "The curvature across the valley is about 2500 times the curvature along it.")
        ),
        # Hessian [[802, −400], [−400, 200]] at (1, 1): λ = 501 ∓ √(301² + 400²) = 501 ∓ √250601
        hessian_eigs=(501 - math.sqrt(250601), 501 + math.sqrt(250601)),
    ),
    Surface(
        key="beale",
        name="Beale",
        latex=r"(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        fn=_beale,
        bounds=((-4.5, 4.5), (-4.5, 4.5)),
        minima=(Point(3.0, 0.5, 0.0),),
        start=(1.0, 1.5),
        log_levels=True,
        description=(
            N_("Flat plateaus and steep walls that rise to 10⁵ at the corners; the minimum at (3, 0.5) sits in a "
               "narrow valley, so the step size that works on the plateau overshoots near the walls.")
        ),
        # Hessian [[101/32, −183/16], [−183/16, 369/8]] at (3, 0.5): λ = (1577 ∓ √(1375² + 732²))/64, κ ≈ 162.5
        hessian_eigs=((1577 - math.sqrt(2426449)) / 64, (1577 + math.sqrt(2426449)) / 64),
    ),
    Surface(
        key="himmelblau",
        name="Himmelblau",
        latex=r"(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        fn=_himmelblau,
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        minima=(
            Point(3.0, 2.0, 0.0),
            Point(-2.805118086952569, 3.1313125182504145, 0.0),
            Point(-3.7793102533775667, -3.2831859912859627, 0.0),
            Point(3.584428340330336, -1.8481265269641145, 0.0),
        ),
        start=(0.0, 0.0),
        log_levels=True,
        description=(
            N_("Four equally good minima. Which one an optimizer reaches depends on the start and on how it "
               "moves, a small picture of why different runs of the same network end in different places.")
        ),
        points=(
            Point(-0.2708445904966186, -0.9230385569158216, 181.6165215225827, "max"),
            Point(0.08667750482536164, 2.884254701111932, 67.71915008752612, "saddle"),
            Point(3.3851541836194237, 0.07385187980823536, 13.311926270405591, "saddle"),
            Point(-3.0730257506567655, -0.08135304437504155, 104.0151629175581, "saddle"),
            Point(-0.12796134701118136, -1.9537149800340137, 178.33723920192747, "saddle"),
        ),
    ),
    Surface(
        key="six_hump_camel",
        name=N_("Six-hump camel"),
        latex=r"\left(4 - 2.1x^2 + \tfrac{x^4}{3}\right)x^2 + xy + (-4 + 4y^2)\,y^2",
        fn=_six_hump_camel,
        bounds=((-2.0, 2.0), (-1.1, 1.1)),
        minima=(
            Point(0.08984201311091985, -0.7126564030201504, -1.0316284534898774),
            Point(-0.08984201311091985, 0.7126564030201504, -1.0316284534898774),
            Point(1.7036067149479877, -0.7960835686711494, -0.21546382438371747, "local"),
            Point(-1.7036067149479877, 0.7960835686711494, -0.21546382438371747, "local"),
            Point(1.6071047529713898, 0.5686514548728293, 2.1042503103112593, "local"),
            Point(-1.6071047529713898, -0.5686514548728293, 2.1042503103112593, "local"),
        ),
        start=(-1.5, -0.8),
        log_levels=False,
        description=(
            N_("Two global minima and four local ones. A run that starts on the wrong slope settles in a "
               "local minimum; momentum sometimes carries it over the ridge.")
        ),
        points=(Point(0.0, 0.0, 0.0, "saddle"),),
    ),
    Surface(
        key="three_hump_camel",
        name=N_("Three-hump camel"),
        latex=r"2x^2 - 1.05x^4 + \tfrac{x^6}{6} + xy + y^2",
        fn=_three_hump_camel,
        bounds=((-2.0, 2.0), (-2.0, 2.0)),
        minima=(
            Point(0.0, 0.0, 0.0),
            Point(1.74755234580004, -0.8737761728686272, 0.2986384422368593, "local"),
            Point(-1.74755234580004, 0.8737761728686272, 0.2986384422368593, "local"),
        ),
        start=(-1.8, 1.8),
        log_levels=True,
        description=N_("One global minimum at the origin between two shallow local minima that can trap a run."),
        points=(
            Point(1.0705422918171084, -0.5352711459243961, 0.8773615577631403, "saddle"),
            Point(-1.0705422918171084, 0.5352711459243961, 0.8773615577631403, "saddle"),
        ),
    ),
    Surface(
        key="booth",
        name="Booth",
        latex=r"(x + 2y - 7)^2 + (2x + y - 5)^2",
        fn=_booth,
        bounds=((-10.0, 10.0), (-10.0, 10.0)),
        minima=(Point(1.0, 3.0, 0.0),),
        start=(-8.0, -8.0),
        log_levels=True,
        # Hessian [[10, 8], [8, 10]]: eigenvalues 2 and 18
        description=N_("A tilted quadratic bowl (Hessian eigenvalues 2 and 18): the easy case every method solves."),
        hessian_eigs=(2.0, 18.0),
    ),
    Surface(
        key="goldstein_price",
        name="Goldstein–Price",
        latex=(
            r"\left[1 + (x + y + 1)^2 (19 - 14x + 3x^2 - 14y + 6xy + 3y^2)\right]"
            r"\left[30 + (2x - 3y)^2 (18 - 32x + 12x^2 + 48y - 36xy + 27y^2)\right]"
        ),
        fn=_goldstein_price,
        bounds=((-2.0, 2.0), (-2.0, 2.0)),
        minima=(
            Point(0.0, -1.0, 3.0),
            Point(-0.6, -0.4, 30.0, "local"),
            Point(1.8, 0.2, 84.0, "local"),
            Point(1.2, 0.8, 840.0, "local"),
        ),
        start=(0.5, 1.5),
        log_levels=True,
        description=(
            N_("Values from 3 to about 10⁶ with several local minima: without log-scaled contours the landscape "
               "looks flat. The global minimum is f(0, −1) = 3.")
        ),
    ),
    Surface(
        key="rastrigin",
        name="Rastrigin",
        latex=r"20 + \sum_{i=1}^{2} \left(x_i^2 - 10 \cos 2\pi x_i\right)",
        fn=_rastrigin,
        bounds=((-5.12, 5.12), (-5.12, 5.12)),
        minima=(Point(0.0, 0.0, 0.0),),
        start=(3.2, -2.8),
        log_levels=False,
        description=(
            N_("A bowl covered in ripples: a local minimum near every integer point. Gradient methods stop in the "
               "nearest ripple unless the step is large or noisy.")
        ),
    ),
    Surface(
        key="ackley",
        name="Ackley",
        latex=(
            r"-20\, e^{-0.2\sqrt{\frac{1}{2}(x^2 + y^2)}} - e^{\frac{1}{2}(\cos 2\pi x + \cos 2\pi y)} + e + 20"
        ),
        fn=_ackley,
        bounds=((-5.0, 5.0), (-5.0, 5.0)),
        minima=(Point(0.0, 0.0, 0.0),),
        start=(3.5, -4.0),
        log_levels=False,
        description=(
            N_("An almost flat, bumpy plain with one deep funnel at the origin. Far from it the gradient mostly "
               "points into the nearest bump.")
        ),
    ),
    Surface(
        key="banana",
        name=N_("Banana (Distill)"),
        latex=r"(1 - x)^2 + 20\,(3y - x^2)^2",
        fn=_banana,
        bounds=((-2.0, 2.0), (-1.0, 2.0)),
        minima=(Point(1.0, 1.0 / 3.0, 0.0),),
        start=(-1.0, 1.0),
        log_levels=True,
        description=(
            N_("The curved valley of Distill's \"Why Momentum Really Works\": a gentler Rosenbrock "
            "(condition number about 376 at the minimum) where momentum visibly helps.")
        ),
        # Hessian [[162, −240], [−240, 360]] at (1, 1/3): λ = 261 ∓ √(99² + 240²) = 261 ∓ √67401
        hessian_eigs=(261 - math.sqrt(67401), 261 + math.sqrt(67401)),
    ),
    Surface(
        key="saddle",
        name=N_("Saddle"),
        latex=r"x^2 - y^2",
        fn=_saddle,
        bounds=((-2.0, 2.0), (-2.0, 2.0)),
        minima=(),
        start=(-1.8, 0.01),
        log_levels=False,
        description=(
            N_("A saddle at the origin and no minimum: f is unbounded below. Starting almost on the ridge, plain "
               "gradient descent lingers near the saddle before sliding off; momentum escapes sooner.")
        ),
        points=(Point(0.0, 0.0, 0.0, "saddle"),),
    ),
    quadratic(),
)

SURFACES: dict[str, Surface] = {s.key: s for s in _SURFACE_LIST}


def get_surface(key: str, **params: float) -> Surface:
    """The surface named ``key``, built from the parameters it declares (``Surface.params``) when given any.

    Every value is checked against its declared range; a parameter the entry does not declare is refused with
    the list of those it does.
    """
    if key not in SURFACES:
        raise ValueError(t("Unknown surface {key!r}; choose one of: {keys}", key=key, keys=", ".join(SURFACES)))
    entry = SURFACES[key]
    if not params:
        return entry
    declared = {p.name: p for p in entry.params}
    if not declared:
        raise ValueError(t("Surface {key!r} takes no parameters, got: {names}", key=key, names=", ".join(params)))
    for name in params:
        if name not in declared:
            raise ValueError(t("Unknown parameter {name!r} for {key!r}; allowed: {allowed}", name=name, key=key,
                               allowed=", ".join(declared)))
    values = {p.name: p.check(key, params.get(p.name, p.default)) for p in entry.params}
    return entry.factory(**values)
