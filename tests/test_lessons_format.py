"""The lesson pages' printing of param_groups and state_dict agrees with PyTorch's own print(optimizer)."""

import torch

from optlab.ui.lesson import dash_missing, format_param_groups, format_state_dict, format_value


def test_param_groups_print_like_torch():
    w = torch.zeros(2, requires_grad=True)
    for kwargs in ({"lr": 0.1, "momentum": 0.9}, {"lr": 0.01, "weight_decay": 0.5, "nesterov": False}):
        opt = torch.optim.SGD([w], **kwargs)
        assert format_param_groups(opt.param_groups, "SGD") == repr(opt)


def test_values_print_rounded_on_one_line():
    assert format_value(torch.tensor([[1.234567, 2.0], [3.0, -4.5]])) == "tensor([[1.2346, 2.0], [3.0, -4.5]])"
    assert format_value(torch.tensor(2.5)) == "tensor(2.5)"
    assert format_value(0.1) == "0.1" and format_value(None) == "None" and format_value(False) == "False"


def test_state_dict_shows_every_state_entry_and_group():
    w, b = torch.ones(2, requires_grad=True), torch.ones(1, requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=0.1, momentum=0.9)
    (w.sum() * 2 + b.sum()).backward()
    opt.step()
    text = format_state_dict(opt.state_dict())
    assert "0: {'momentum_buffer': tensor([2.0, 2.0])}" in text
    assert "1: {'momentum_buffer': tensor([1.0])}" in text
    assert "'params': [0, 1]" in text and "'lr': 0.1" in text


def test_tables_show_a_dash_for_missing_values_and_keep_one_type_per_column():
    rows = [{"optimizer": "SGD", "steps": 349, "expected": 349, "rate": 0.5},
            {"optimizer": "Adam", "steps": "never", "expected": None, "rate": 1.25}]
    shown = dash_missing(rows)
    assert [r["expected"] for r in shown] == ["349", "—"]  # None becomes a dash, the column becomes text
    assert [r["steps"] for r in shown] == ["349", "never"]  # text next to a number: one text column
    assert [r["rate"] for r in shown] == [0.5, 1.25] and [r["optimizer"] for r in shown] == ["SGD", "Adam"]
    assert dash_missing(rows, missing="n/a")[1]["expected"] == "n/a"
    assert rows[1]["expected"] is None  # the input is left alone
