"""The lessons on anatomy, zero_grad, weight decay and per-layer lr against independent computation."""

import pytest
import torch

from optlab.lessons import anatomy, per_layer, weight_decay, zero_grad

# ---- anatomy of an optimizer ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("lr", "momentum"), [(0.1, 0.9), (0.01, 0.0), (0.5, 0.5)])
def test_param_groups_hold_our_values_and_torch_defaults(lr, momentum):
    (group,) = anatomy.param_groups_filled_in(lr, momentum)
    reference = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr, momentum=momentum).defaults
    assert group == reference
    assert group["lr"] == lr and group["momentum"] == momentum


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
def test_state_is_lazy_and_holds_what_torch_keeps(momentum):
    """Before the step the state is empty; after it, it holds exactly what torch.optim.SGD keeps: one buffer per
    parameter with momentum (the first one the gradient itself), nothing at all with momentum 0."""
    out = anatomy.state_before_and_after_step(0.1, momentum)
    w, b = anatomy.two_tensors()
    reference = torch.optim.SGD([w, b], lr=0.1, momentum=momentum)
    anatomy.loss_of(w, b).backward()
    reference.step()
    assert out["entries_before"] == 0
    assert out["entries_after"] == len(reference.state) == (2 if momentum else 0)
    assert out["keys_after"] == sorted(reference.state.get(w, {})) == (["momentum_buffer"] if momentum else [])
    assert out["buffer_equals_grad"] is (True if momentum else None)


def test_param_groups_hold_the_models_tensors():
    assert anatomy.params_are_the_models_own() == {"same_object": True, "same_memory": True, "model_changed": True}


def test_added_group_keeps_its_lr_and_inherits_the_rest():
    groups = anatomy.add_a_group(0.1, 0.003)
    assert [g["n_params"] for g in groups] == [2, 1]
    assert [g["lr"] for g in groups] == [0.1, 0.003]
    assert [g["momentum"] for g in groups] == [0.9, 0.9]


def test_state_dict_indexes_params_and_gains_buffers():
    before, after = anatomy.state_dict_before_and_after(0.1, 0.9)
    assert before["state"] == {}
    assert before["param_groups"][0]["params"] == [0, 1]
    assert set(after["state"]) == {0, 1}
    # the first buffer is the gradient of L = sum((x W + b)^2) at the start, computed here by hand
    w, b = anatomy.two_tensors()
    x = torch.tensor([1.0, 2.0])
    grad_b = 2 * (x @ w.detach() + b.detach())
    assert torch.allclose(after["state"][1]["momentum_buffer"], grad_b)
    assert torch.allclose(after["state"][0]["momentum_buffer"], torch.outer(x, grad_b))


def test_without_momentum_there_is_no_state_to_save_and_a_fresh_optimizer_resumes_exactly():
    before, after = anatomy.state_dict_before_and_after(0.1, 0.0)
    assert before["state"] == after["state"] == {}
    assert after["param_groups"][0]["params"] == [0, 1]
    out = anatomy.resume_from_state_dict(0.05, 0.0)
    assert out["gap_resumed"] == out["gap_fresh_optimizer"] == 0.0


@pytest.mark.parametrize(("lr", "momentum"), [(0.05, 0.9), (0.02, 0.5)])
def test_resuming_from_state_dict_is_exact_and_a_fresh_optimizer_is_not(lr, momentum):
    out = anatomy.resume_from_state_dict(lr, momentum)
    assert out["gap_resumed"] == 0.0
    assert out["gap_fresh_optimizer"] > 1e-3


# ---- zero_grad, backward, step -------------------------------------------------------------------------------


def test_gradients_pile_up_without_zero_grad():
    assert zero_grad.grads_pile_up(4) == [3.0, 6.0, 9.0, 12.0]


def test_skipping_zero_grad_sums_all_past_gradients():
    lr, steps = 0.1, 6
    runs = zero_grad.run_with_and_without_zero_grad(lr, steps)
    w, total = 1.0, 0.0
    for t in range(steps):  # without zero_grad the step uses the sum of every gradient so far
        total += w
        w -= lr * total
        assert runs["without zero_grad"][t + 1] == pytest.approx(w, rel=1e-5)
        assert runs["with zero_grad"][t + 1] == pytest.approx((1 - lr) ** (t + 1), rel=1e-5)


@pytest.mark.parametrize(("k", "size"), [(2, 4), (4, 8), (8, 1)])
def test_accumulation_equals_one_big_batch(k, size):
    out = zero_grad.accumulation_equals_big_batch(k, size)
    assert out["max_gap"] < 1e-5
    assert max(abs(v) for v in out["big_batch"]) > 1e-3  # a real gradient, not zeros


def test_set_to_none_and_skipped_parameters():
    out = zero_grad.set_to_none()
    assert out["set_to_none=False"] == "tensor([0., 0.])"
    assert out["set_to_none=True"] == "None"
    assert out["state_after_step"] == 0


def test_closure_is_called_and_lbfgs_solves_the_quadratic():
    out = zero_grad.closure_calls(10)
    assert out["closure_calls"] >= 2
    assert out["loss_returned"] == pytest.approx((3 - 1) ** 2 + (-2 - 1) ** 2)
    assert out["w_after"] == pytest.approx([1.0, 1.0], abs=1e-4)


# ---- weight decay --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("wd", "lr"), [(0.0, 0.1), (1.0, 0.1), (0.5, 0.01)])
def test_one_sgd_step_matches_the_hand_formula(wd, lr):
    out = weight_decay.one_sgd_step(wd, lr)
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    w = torch.tensor([1.0, -1.0])
    grad = x.sum(0)  # d/dw of sum(x @ w) = column sums of x
    assert out["grad"] == pytest.approx(grad.tolist())
    assert out["w_after"] == pytest.approx((w - lr * (grad + wd * w)).tolist())
    assert out["loss"] == pytest.approx(float((x @ w).sum()))


def test_adam_l2_barely_decays_a_weight_with_large_gradients_but_adamw_decays_both():
    out = weight_decay.decay_under_adam(lr=0.01, weight_decay=0.1, steps=200)
    l2, decoupled = out["shrink"]["Adam + L2"], out["shrink"]["AdamW"]
    assert l2[1] / l2[0] > 3  # the quiet weight loses far more than the busy one
    assert 0.8 < decoupled[1] / decoupled[0] < 1.25  # both lose about the same


def test_adamw_is_adam_plus_a_separate_shrink():
    """With gradients that do not depend on w, AdamW = Adam's own updates plus w <- (1 - lr wd) w first."""
    lr, wd, steps = 0.01, 0.1, 50
    grads = weight_decay.noisy_gradients(steps, (1.0, 0.001))
    p = torch.ones(2, requires_grad=True)
    opt = torch.optim.Adam([p], lr=lr)
    w = torch.ones(2)
    for g in grads:
        before = p.detach().clone()
        p.grad = g.clone()
        opt.step()
        w = w * (1 - lr * wd) + (p.detach() - before)
    out = weight_decay.decay_under_adam(lr=lr, weight_decay=wd, steps=steps)
    assert out["final"]["AdamW"] == pytest.approx(w.double().numpy(), abs=1e-6)


# ---- per-layer learning rates --------------------------------------------------------------------------------


@pytest.mark.parametrize(("features_lr", "classifier_lr"), [(0.001, 0.1), (0.05, 0.05), (0.0, 0.2)])
def test_each_layer_moves_by_its_groups_lr(features_lr, classifier_lr):
    rows = per_layer.fine_tune_step(features_lr, classifier_lr)
    assert [r["group"] for r in rows] == [0, 0, 1, 1]
    for r in rows:
        expected = features_lr if r["group"] == 0 else classifier_lr
        assert r["measured lr"] == pytest.approx(expected, rel=1e-4, abs=1e-9)


def test_groups_chosen_by_identity_cover_each_parameter_once():
    out = per_layer.no_decay_for_biases(0.01)
    assert out["groups"] == [{"n_tensors": 2, "weight_decay": 0.01}, {"n_tensors": 2, "weight_decay": 0.0}]
    assert out["every_parameter_once"] is True


def test_a_parameter_in_two_groups_is_refused():
    assert "more than one parameter group" in per_layer.same_parameter_twice()
