"""The anatomy lesson's page at the momentum slider's ends: at 0 torch's SGD keeps no state, and the page says so.

The page's other behaviour (defaults, predict-then-reveal) is covered in tests/test_pages_lessons.py.
"""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from optlab.lessons import anatomy

PAGE = Path(__file__).resolve().parents[1] / "pages" / "3_Anatomy_of_an_optimizer.py"
EMPTY_STATE = "torch's `SGD` creates a `momentum_buffer` only when momentum is not 0"
NOTHING_TO_LOSE = "With momentum 0 the state is empty, so there is nothing to lose"


def texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.code] + [i.value for i in at.info])


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("momentum", [0.0, 0.99])
def test_the_momentum_slider_at_either_end_shows_what_torch_keeps(momentum):
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    assert not at.exception, at.exception
    at.slider(key="anat_momentum").set_value(momentum).run()
    assert not at.exception, at.exception
    at.button(key="anat_state_show").click().run()
    assert not at.exception, at.exception

    state = anatomy.state_before_and_after_step(0.1, momentum)
    assert metric(at, "entries before step()") == "0"
    assert metric(at, "entries after step()") == str(state["entries_after"]) == ("0" if momentum == 0 else "2")
    shown = texts(at)
    assert f"momentum: {momentum:g}\n" in at.code[0].value
    if momentum == 0:
        assert EMPTY_STATE in shown and "Each entry, after the step" not in shown
        assert "only for what the algorithm must remember" in shown  # the revealed answer's reason
        assert "'state': {\n  }," in shown  # state_dict() after the step: still empty
        assert metric(at, "max |w| gap, resumed with a fresh optimizer") == "0"
        assert NOTHING_TO_LOSE in shown
    else:
        assert "Each entry, after the step, holds: `momentum_buffer`." in shown
        assert "First buffer equals the gradient (no dampening on step 1): **True**" in shown
        assert EMPTY_STATE not in shown and NOTHING_TO_LOSE not in shown
        resume = anatomy.resume_from_state_dict(0.1, momentum)
        assert metric(at, "max |w| gap, resumed with a fresh optimizer") == f"{resume['gap_fresh_optimizer']:.3g}"
    assert metric(at, "max |w| gap, resumed with load_state_dict") == "0"
