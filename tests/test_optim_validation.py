"""Bad constructor arguments: optlab raises what its reference raises (torch: the same type and message, compared
live; a reference package: the message the table states); unsupported modes are refused.

The bad inputs and the refused modes of each optimizer come from the optimizer table (``tests/optim_db.py``).
"""

import inspect

import pytest
import torch

from tests.optim_db import DB, INFOS, ErrorInput, OptimizerInfo

BAD = [(info, bad) for info in INFOS for bad in info.errors]
BAD_IDS = [f"{info.name}-{sorted(bad.kwargs)}-{i}" for i, (info, bad) in enumerate(BAD)]


def _params(info: OptimizerInfo, bad: ErrorInput | None = None) -> list[torch.Tensor]:
    """The parameters of an error case: its own, or one the optimizer takes (a matrix for Muon)."""
    if bad is not None and bad.params is not None:
        return bad.params()
    return [torch.zeros(2, 2 if info.params_kind == "matrices" else 1, requires_grad=True)]


def _error(cls, info: OptimizerInfo, bad: ErrorInput):
    with pytest.raises(Exception) as caught:
        opt = cls(_params(info, bad), **bad.kwargs)
        if bad.on_step:
            opt.step()
    return type(caught.value), str(caught.value)


@pytest.mark.parametrize(("info", "bad"), BAD, ids=BAD_IDS)
def test_same_error_as_the_reference(info, bad):
    ours = _error(info.cls, info, bad)
    if info.torch_reference:
        theirs = _error(info.reference_cls(), info, bad)
        assert ours == theirs
        assert theirs[0] in (ValueError, RuntimeError)  # a 2-element tensor beta fails in its comparison
    else:
        assert ours[0] is bad.error and bad.message in ours[1], ours


def _without_internals(message: str) -> bool:
    return not any(part in message for part in ("Traceback", "self.", "<class", " object at ", "torch."))


@pytest.mark.parametrize(("info", "bad"), [(i, b) for i, b in BAD if not i.torch_reference],
                         ids=[n for n, (i, _) in zip(BAD_IDS, BAD, strict=True) if not i.torch_reference])
def test_refusals_of_optimizers_torch_lacks_are_plain_words(info, bad):
    """What is wrong and the value given, in torch's wording; no Python or torch internals."""
    _, message = _error(info.cls, info, bad)
    assert _without_internals(message) and len(message) < 300, message


UNSUPPORTED = [(info, flag) for info in INFOS for flag in info.unsupported_modes]
UNSUPPORTED_IDS = [f"{info.name}-{flag}" for info, flag in UNSUPPORTED]
WITH_FOREACH = [info for info in INFOS if "foreach" in inspect.signature(info.cls.__init__).parameters]
WITH_MODES = [info for info in INFOS if info.unsupported_modes]


@pytest.mark.parametrize(("info", "flag"), UNSUPPORTED, ids=UNSUPPORTED_IDS)
def test_unsupported_modes_are_refused_clearly(info, flag):
    with pytest.raises(ValueError, match=rf"{flag}=True is not supported"):
        info.cls(_params(info), **{flag: True})


@pytest.mark.parametrize("info", WITH_FOREACH, ids=lambda info: info.name)
def test_default_modes_and_foreach_are_accepted(info):
    p = torch.zeros(2, requires_grad=True)
    for foreach in (None, False, True):
        opt = info.cls([p], foreach=foreach)
        assert opt.param_groups[0]["foreach"] is foreach


@pytest.mark.parametrize("info", [info for info in INFOS if info.refuses_sparse], ids=lambda info: info.name)
def test_sparse_gradients_are_refused(info):
    (p,) = _params(info)
    opt = info.cls([p], **({"momentum": 0.9} if info.name == "SGD" else {}))
    if info.prepare is not None:
        info.prepare(opt)
    p.grad = torch.zeros_like(p).to_sparse()
    with pytest.raises(RuntimeError, match="sparse"):
        opt.step()


def _constructor_message(info: OptimizerInfo, flag: str) -> str:
    with pytest.raises(ValueError) as caught:
        info.cls(_params(info), **{flag: True})
    return str(caught.value)


def _in_constructor_group(info, flag):
    info.cls([{"params": _params(info)}, {"params": _params(info), flag: True}])


def _added_group(info, flag):
    opt = info.cls(_params(info))
    try:
        opt.add_param_group({"params": _params(info), flag: True})
    finally:
        assert len(opt.param_groups) == 1, "a refused group must not be left in param_groups"


def _loaded_group(info, flag):
    params = _params(info)
    saved = info.cls(params).state_dict()
    saved["param_groups"][0][flag] = True
    opt = info.cls(params)
    try:
        opt.load_state_dict(saved)
    finally:
        assert opt.param_groups[0][flag] in (False, None), "a refused state_dict must not be loaded"


GROUP_WAYS = {"constructor group": _in_constructor_group, "add_param_group": _added_group,
              "load_state_dict": _loaded_group}


@pytest.mark.parametrize("way", list(GROUP_WAYS))
@pytest.mark.parametrize(("info", "flag"), UNSUPPORTED, ids=UNSUPPORTED_IDS)
def test_unsupported_modes_are_refused_in_a_param_group_with_the_constructors_message(info, flag, way):
    """A group cannot turn on what the constructor refuses (it would silently run the plain algorithm)."""
    with pytest.raises(ValueError) as caught:
        GROUP_WAYS[way](info, flag)
    assert str(caught.value) == _constructor_message(info, flag)


@pytest.mark.parametrize("way", ["constructor group", "add_param_group"])
@pytest.mark.parametrize("info", [i for i in WITH_FOREACH if i.unsupported_modes], ids=lambda info: info.name)
def test_a_group_may_name_the_default_modes_and_foreach(info, way):
    """A group that states the default modes (or a foreach choice) is accepted, and keeps what it states."""
    p = torch.zeros(2, requires_grad=True)
    opt = info.cls([p])
    keys = [k for k in ("fused", "capturable", "differentiable") if k in opt.defaults]
    group = {"params": [torch.zeros(3, requires_grad=True)], "foreach": True, **{k: opt.defaults[k] for k in keys}}
    if way == "constructor group":
        opt = info.cls([{"params": [p]}, group])
    else:
        opt.add_param_group(group)
    assert opt.param_groups[1]["foreach"] is True
    assert all(opt.param_groups[1][k] == opt.defaults[k] for k in keys)


@pytest.mark.parametrize("flag", ["capturable", "fused"])
def test_a_mode_the_optimizer_does_not_have_is_left_alone_as_torch_leaves_it(flag):
    """torch's RMSprop has no ``fused`` and SGD no ``capturable``: such a key is carried, unused, by both."""
    name = "RMSprop" if flag == "fused" else "SGD"
    group = {"params": [torch.zeros(2, requires_grad=True)], flag: True}
    ours = DB[name].cls([dict(group)])
    theirs = DB[name].reference_cls()([dict(group)])
    assert ours.param_groups[0][flag] is theirs.param_groups[0][flag] is True
