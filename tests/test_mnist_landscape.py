"""The MNIST net's loss landscape (Li et al. 2018): the slice's centre is the trained model's loss, filter
normalisation gives each filter the weights' norm, the PCA plane's projections end at the final weights, and the
computation runs through the training service."""

import pytest
import torch
import torch.nn.functional as F
from torch.nn.utils import parameters_to_vector

from optlab.mnist.config import RunSpec, TrainConfig
from optlab.mnist.landscape import LandscapeComputation, filter_normalized_direction, pca_plane, project
from optlab.mnist.models import build_model
from optlab.mnist.train import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")

CONFIG = TrainConfig(runs=(RunSpec.of("momentum", lr=0.05), RunSpec.of("adam", lr=1e-3)), width=16, epochs=1,
                     batch_size=32)


def trained(small) -> Trainer:
    t = Trainer(small, CONFIG, device="cpu")
    t.run()
    return t


@pytest.mark.parametrize("plane", ["pca", "random"])
def test_the_slice_centre_is_the_trained_models_loss(small, plane):
    job = LandscapeComputation(small, CONFIG, plane=plane, centre_run=1, grid=5, n_eval=200)
    assert job.run()
    land = job.result
    model = trained(small).runs[1].model
    want = F.cross_entropy(model(small.x_train[:200]), small.y_train[:200]).item()
    assert land.alphas[2] == 0.0 and land.betas[2] == 0.0
    assert land.loss[2][2] == pytest.approx(want, rel=1e-5)
    assert land.centre_loss == pytest.approx(want, rel=1e-5)
    assert max(max(row) for row in land.loss) > want  # the slice rises away from the trained weights


def test_each_projected_trajectory_ends_at_its_final_weights(small):
    job = LandscapeComputation(small, CONFIG, plane="pca", centre_run=0, grid=5, n_eval=100)
    job.run()
    land = job.result
    t = trained(small)
    finals = [parameters_to_vector(r.model.parameters()).detach() for r in t.runs]
    centre, d1, d2 = land.directions
    assert torch.equal(centre, finals[0])  # the plane goes through the centre run's trained weights
    assert land.path_steps[0] == 0 and land.path_steps[-1] == t.total_steps
    assert land.paths[0][-1] == pytest.approx([0.0, 0.0], abs=1e-9)
    for r, final in enumerate(finals):
        # (θ_final − θ*)·d₁, (θ_final − θ*)·d₂ of the separately trained run, computed here in float64
        want = [float((final - centre).double() @ d.double()) for d in (d1, d2)]
        assert land.paths[r][-1] == pytest.approx(want, rel=1e-9, abs=1e-9)
    start = parameters_to_vector(build_model("mlp", 16).parameters()).detach()
    assert land.paths[1][0] == pytest.approx(land.paths[0][0])  # both runs start from the same weights
    assert land.paths[0][0] == pytest.approx(project(start[None], centre, d1, d2)[0].tolist())
    assert float(d1 @ d2) == pytest.approx(0.0, abs=1e-5) and float(d1 @ d1) == pytest.approx(1.0, abs=1e-5)


def test_filter_normalisation_gives_each_filter_the_weights_norm():
    model = build_model("cnn", channels=4)
    d = filter_normalized_direction(model, torch.Generator().manual_seed(1))
    k = 0
    for p in model.parameters():
        part = d[k:k + p.numel()].view_as(p)
        k += p.numel()
        if p.ndim < 2:
            assert torch.equal(part, torch.zeros_like(p))
        else:
            torch.testing.assert_close(torch.linalg.vector_norm(part.flatten(1), dim=1),
                                       torch.linalg.vector_norm(p.detach().flatten(1), dim=1))


def test_the_pca_plane_spans_the_two_leading_directions():
    g = torch.Generator().manual_seed(0)
    centre = torch.randn(50, generator=g)
    u, v = torch.zeros(50), torch.zeros(50)
    u[3], v[7] = 1.0, 1.0
    a, b = [3.0, -3.0, 6.0, -6.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0, -1.0]  # Σ a b = 0: u and v are the axes
    points = torch.stack([centre + ak * u + bk * v for ak, bk in zip(a, b, strict=True)])
    d1, d2, shares = pca_plane(points, centre)
    assert abs(float(d1 @ u)) == pytest.approx(1.0, abs=1e-6) and abs(float(d2 @ v)) == pytest.approx(1.0, abs=1e-5)
    assert shares[0] > 0.9 and sum(shares) == pytest.approx(1.0)
    coords = project(points, centre, d1, d2).abs()
    assert coords[:, 0].tolist() == pytest.approx([abs(v) for v in a], abs=1e-5)
    assert coords[:, 1].tolist() == pytest.approx([abs(v) for v in b], abs=1e-5)


@pytest.mark.parametrize(
    ("kw", "match"),
    [(dict(plane="sideways"), "Unknown plane"), (dict(centre_run=5), "no optimizer 6"), (dict(grid=4), "odd")],
)
def test_bad_landscape_requests_are_refused_clearly(small, kw, match):
    with pytest.raises(ValueError, match=match):
        LandscapeComputation(small, CONFIG, **kw)
