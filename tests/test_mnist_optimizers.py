"""Every optimizer of the registry trains the MNIST net at its MNIST learning rate, and Muon runs the recipe people
use: Muon for the hidden weights, AdamW for biases and the output layer, equal to the two torch optimizers stepped
by hand, visible in param_groups, resumable from its state_dict and driven by torch's LR schedulers."""

import copy

import pytest
import torch
import torch.nn.functional as F

from optlab.mnist.config import MNIST_LR, MNIST_OPTIMIZERS, RunSpec, TrainConfig
from optlab.mnist.models import build_model
from optlab.mnist.muon_recipe import ADAMW_BETAS, MuonWithAuxAdamW
from optlab.mnist.train import Trainer, batch_indices, build_optimizer, epoch_order
from optlab.registry import REGISTRY

pytestmark = pytest.mark.usefixtures("one_thread")


def cfg(runs, **kw) -> TrainConfig:
    base = dict(runs=tuple(runs), width=32, epochs=2, batch_size=32)
    base.update(kw)
    return TrainConfig(**base)


def test_the_lab_offers_every_optimizer_but_the_one_that_needs_a_closure():
    assert set(REGISTRY) - set(MNIST_OPTIMIZERS) <= {"lbfgs"}
    if "lbfgs" in REGISTRY:
        with pytest.raises(ValueError, match="not offered in the MNIST Lab.*Surface Lab"):
            TrainConfig(runs=(RunSpec.of("lbfgs"),)).validate()


@pytest.mark.parametrize("key", MNIST_OPTIMIZERS)
def test_every_optimizer_trains_at_its_mnist_learning_rate(small, key):
    """Loss of the last 10 steps well under that of the first 10, and test accuracy far above chance."""
    t = Trainer(small, cfg([RunSpec.of(key, lr=MNIST_LR[key])], epochs=3), device="cpu")  # 75 steps
    t.run()
    loss = t.history.loss[0]
    assert t.diverged == [None]
    assert sum(loss[-10:]) < 0.7 * sum(loss[:10])
    assert t.history.test_acc[0][-1] > 0.5


def test_muon_takes_the_hidden_weights_and_adamw_the_rest():
    model = build_model("mlp", width=16, depth=2)
    opt = build_optimizer(RunSpec.of("muon", lr=0.02, adamw_lr=1e-3), model, TrainConfig())
    names = {id(p): n for n, p in model.named_parameters()}
    seen = {names[id(p)]: (g["optimizer"], g["lr"]) for g in opt.param_groups for p in g["params"]}
    assert seen == {
        "fc1.weight": ("Muon", 0.02), "fc2.weight": ("Muon", 0.02),
        "fc1.bias": ("AdamW", 1e-3), "fc2.bias": ("AdamW", 1e-3),
        "head.weight": ("AdamW", 1e-3), "head.bias": ("AdamW", 1e-3),
    }
    assert "optimizer: Muon" in repr(opt) and "optimizer: AdamW" in repr(opt)  # print(optimizer) shows it
    assert all(g["betas"] == ADAMW_BETAS for g in opt.param_groups if g["optimizer"] == "AdamW")


def test_the_cnn_kernels_are_muons_and_torch_muon_refuses_them():
    model = build_model("cnn", channels=4)
    opt = build_optimizer(RunSpec.of("muon"), model, TrainConfig(model="cnn"))
    muon = [p.shape for g in opt.param_groups if g["optimizer"] == "Muon" for p in g["params"]]
    assert muon == [torch.Size([4, 1, 3, 3]), torch.Size([8, 4, 3, 3])]
    with pytest.raises(ValueError, match="2-D weights only"):
        build_optimizer(RunSpec.of("muon", impl="torch"), model, TrainConfig(model="cnn"))


def test_the_recipe_equals_torch_muon_and_torch_adamw_stepped_by_hand(small):
    """Five steps of the lab's run against torch.optim.Muon on fc1.weight plus torch.optim.AdamW on the rest."""
    config = cfg([RunSpec.of("muon", lr=0.02, adamw_lr=3e-3, weight_decay=0.01)], epochs=1)
    t = Trainer(small, config, device="cpu")
    ref = copy.deepcopy(t.runs[0].model)
    hidden = [ref.fc1.weight]
    rest = [ref.fc1.bias, ref.head.weight, ref.head.bias]
    muon = torch.optim.Muon(hidden, lr=0.02, weight_decay=0.01, momentum=0.95, nesterov=True)
    adamw = torch.optim.AdamW(rest, lr=3e-3, betas=(0.9, 0.95), weight_decay=0.01)
    order = epoch_order(config.seed, 0, small.n_train)
    for j in range(5):
        (m,) = batch_indices(order, j, config.batch_size, 1)
        for o in (muon, adamw):
            o.zero_grad()
        F.cross_entropy(ref(small.x_train[m]), small.y_train[m]).backward()
        muon.step()
        adamw.step()
    t.run(stop=lambda: t.step >= 5)
    for (name, p), q in zip(t.runs[0].model.named_parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6, msg=name)


def test_an_lr_edited_in_param_groups_reaches_the_inner_optimizers():
    model = build_model("mlp", width=8)
    opt = build_optimizer(RunSpec.of("muon"), model, TrainConfig())
    for g in opt.param_groups:
        g["lr"] = 0.5
    assert [g["lr"] for g in opt.muon.param_groups + opt.adamw.param_groups] == [0.5] * len(opt.param_groups)


def test_a_state_dict_loads_back_and_the_parts_keep_stepping_from_it(small):
    config = cfg([RunSpec.of("muon")], epochs=1, schedule="cosine")
    a = Trainer(small, config, device="cpu")
    a.run(stop=lambda: a.step >= 3)
    b = Trainer(small, config, device="cpu")
    b.runs[0].model.load_state_dict(a.runs[0].model.state_dict())
    b.runs[0].optimizer.load_state_dict(copy.deepcopy(a.runs[0].optimizer.state_dict()))  # torch shares tensors
    opt = b.runs[0].optimizer
    assert isinstance(opt, MuonWithAuxAdamW)
    assert opt.muon.state is opt.state and opt.adamw.param_groups[0] is opt.param_groups[-1]
    x, y = small.x_train[:32], small.y_train[:32]
    for run in (a.runs[0], b.runs[0]):
        run.optimizer.zero_grad()
        F.cross_entropy(run.model(x), y).backward()
        run.optimizer.step()
    for p, q in zip(a.runs[0].model.parameters(), b.runs[0].model.parameters(), strict=True):
        assert torch.equal(p, q)


def test_a_schedule_moves_both_parts(small):
    t = Trainer(small, cfg([RunSpec.of("muon", lr=0.02, adamw_lr=1e-3)], epochs=1, schedule="cosine"), "cpu")
    t.run()
    first, last = t.history.lr[0][0], t.history.lr[0][-1]
    assert first == pytest.approx([0.02, 1e-3])
    assert all(b < 0.1 * a for a, b in zip(first, last, strict=True))


@pytest.mark.parametrize(
    ("hparams", "match"),
    [
        ({"adamw_lr": 0.0}, "adamw_lr=0 is outside the allowed range"),
        ({"adamw_lr": "fast"}, "adamw_lr must be a number"),
        ({"adamw_lr": 100.0}, "adamw_lr=100 is outside the allowed range"),
        ({"lr": 1e-3, "betas": 0.9}, "no setting"),
    ],
)
def test_bad_recipe_settings_are_refused_clearly(hparams, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(runs=(RunSpec.of("muon", **hparams),)).validate()


def test_a_muon_checkpoint_resumes_to_the_numbers_of_an_unbroken_run(small):
    from optlab.mnist.checkpoint import load_checkpoint, save_checkpoint

    config = cfg([RunSpec.of("muon", adamw_lr=2e-3), RunSpec.of("adam")], epochs=1, schedule="cosine")
    whole = Trainer(small, config, device="cpu")
    whole.run()
    part = Trainer(small, config, device="cpu")
    part.run(stop=lambda: part.step >= 7)
    resumed = load_checkpoint(save_checkpoint(part), small, "cpu")
    resumed.run()
    assert resumed.history.loss == whole.history.loss
    for p, q in zip(resumed.runs[0].model.parameters(), whole.runs[0].model.parameters(), strict=True):
        assert torch.equal(p, q)
