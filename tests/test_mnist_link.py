"""The MNIST Lab's link (optlab.config.mnist_lab): every setting and the open view round-trip through the URL,
and a malformed or forged link gives notices and the defaults, never an exception."""

import pytest

from optlab.config.mnist_lab import FIELDS, decode, encode
from optlab.fields import Constraints
from optlab.mnist.config import MNIST_LR

ROUND_TRIPS = [
    {},
    {"m": "cnn", "c": 16, "ep": 5, "b": 128, "v": "layers"},
    {"m": "mlp", "w": 512, "d": 3, "seed": 42, "acc": 4, "wdm": "decoupled", "wd": 0.05, "nb": True, "head": 3.0},
    {"ema": True, "emad": 0.999, "sch": "warmup_cosine", "schp": (("min_fraction", 0.1), ("warmup_fraction", 0.2))},
    {"n": 3, "o1": ("muon", (("adamw_lr", 0.002), ("lr", 0.02), ("momentum", 0.9)), "rebuild"),
     "o3": ("lion", (("lr", 0.0003),), "edit"), "lrs": 40, "lrf": 10.0, "v": "landscape", "lp": "random"},
    {"n": 4, "o4": ("adabelief", (("lr", 0.001), ("rectify", True)), "edit"), "v": "range"},
]


@pytest.mark.parametrize("changes", ROUND_TRIPS)
def test_a_setup_round_trips_through_its_link(changes):
    values = FIELDS.defaults() | changes
    link = encode(values)
    back, notes = decode({k: [v] for k, v in link.items()})
    assert notes == []
    applying = [f.key for f in FIELDS if f.applies_to(values)]
    assert {k: back[k] for k in applying} == {k: values[k] for k in applying}


def test_the_default_setup_has_an_empty_link_and_the_view_stays_out_of_the_cache_key():
    assert encode(FIELDS.defaults()) == {}
    a, b = FIELDS.defaults(), FIELDS.defaults() | {"v": "confusion"}
    assert FIELDS.cache_key(a) == FIELDS.cache_key(b)
    assert FIELDS.cache_key(a) != FIELDS.cache_key(a | {"ep": 4})


ADAM = ("adam", (("lr", MNIST_LR["adam"]),), "edit")
BAD_LINKS = [
    ({"m": "<script>alert(1)</script>"}, "m", "Model: unknown value"),
    ({"ep": "1e9"}, ("ep", 20), "outside"),  # a number out of range moves to the nearest end
    ({"ep": "nan"}, "ep", "not a finite number"),
    ({"b": "63"}, "b", "unknown value"),
    ({"n": "x"}, "n", "not a number"),
    ({"o1": "evil:lr=1"}, "o1", "unknown optimizer"),
    ({"o1": "adam:lr=99"}, ("o1", ADAM), "not allowed"),  # the optimizer stays, the bad setting does not
    ({"o1": "adam:bogus=1"}, ("o1", ADAM), "has no setting"),
    ({"o1": "adam:lr=0.001;sideways"}, None, "edit or rebuild"),
    ({"o1": "adam:" + "lr=0.001," * 100}, "o1", "longer than"),
    ({"sch": "cosine", "schp": "min_fraction=7"}, None, "left out"),
    ({"v": "../../etc"}, "v", "unknown value"),
    ({"zzz": "1"}, None, "Ignored unknown link parameter"),
]


@pytest.mark.parametrize(("link", "key", "phrase"), BAD_LINKS)
def test_a_malformed_or_forged_link_gets_a_notice_and_the_default(link, key, phrase):
    values, notes = decode({k: [v] for k, v in link.items()})
    assert any(phrase in n for n in notes), notes
    if isinstance(key, tuple):
        assert values[key[0]] == key[1]
    elif key is not None:
        assert values[key] == FIELDS[key].default
    if "o1" in link and key is None:
        assert values["o1"][2] == "edit"


def test_a_bad_learning_rate_falls_back_to_the_mnist_one_and_a_locked_field_is_put_back():
    values, _ = decode({"o1": ["sgd:lr=-3"]})
    assert dict(values["o1"][1])["lr"] == MNIST_LR["sgd"]
    values, notes = decode({"ep": ["9"]}, Constraints(locked={"ep": 2}))
    assert values["ep"] == 2 and any("fixed by this lesson" in n for n in notes)


def test_junk_of_any_shape_never_raises():
    for params in ({"o1": [""]}, {"o2": [":::,,,;;;"]}, {"schp": ["=,=,="]}, {"n": ["4"], "o4": ["muon:adamw_lr=x"]},
                   {"w": [""]}, {"lp": ["random"]}, {"o1": ["adam:lr=1e-3,beta1=0.5,beta1=0.6"]}):
        values, notes = decode(params)
        assert set(values) == set(FIELDS.defaults())
