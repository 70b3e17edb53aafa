"""A page in Chinese keeps working after a reader changes a widget whose options are shown translated.

AppTest formats a widget's options again after the script run, outside the session that chose the language; a
``format_func`` that calls ``t`` there answers in English, the value no longer matches the options shown, and the
rerun fails. ``optlab.i18n.translator()`` binds the language once per run.
"""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from optlab.i18n import catalog
from optlab.surfaces import SURFACES

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")
ZH = catalog("zh")


def test_narrated_step_in_chinese_reruns_after_the_surface_changes():
    at = AppTest.from_file(str(ROOT / "pages" / "12_Narrated_step.py"), default_timeout=120)
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    surface = at.selectbox(key="nar_surface")
    assert surface.value == "quadratic"
    other = next(k for k in SURFACES if k != "quadratic" and CJK.search(ZH.get(SURFACES[k].name, "")))
    assert ZH[SURFACES[other].name] in surface.options  # the options are shown in Chinese
    surface.set_value(other).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="nar_surface").value == other
    stage = at.radio(key="nar_stage")
    stage.set_value(0).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="nar_stage").value == 0
