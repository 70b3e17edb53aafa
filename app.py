"""optlab: watch neural-network optimizers at work, and learn how torch.optim works inside."""

import streamlit as st

from optlab.ui import startup

startup.prepare()  # once per server, before any page code: torch threads, heavy imports, gc.freeze

from optlab.i18n import t  # noqa: E402
from optlab.ui.language import language_switch, link_params  # noqa: E402
from optlab.ui.pages import LABS, LESSONS, page_entries  # noqa: E402

st.set_page_config(page_title="optlab", page_icon="📉", layout="wide")
ENTRIES = page_entries()
language_switch()


def home() -> None:
    st.title("optlab")
    st.markdown(
        t("""
See what **SGD**, **momentum**, **Nesterov**, **Adam** and its family, and an **EMA of the weights** actually do.
Every optimizer here is a `torch.optim.Optimizer` that matches PyTorch to float precision, and it can explain each
of its steps: the gradient, the momentum buffer, the moments and their bias corrections, the update.

#### Where to start
1. Open the **Surface Lab** and keep the defaults: the same start, three optimizers, the same budget.
2. Drag the learning rate or the momentum of one run and watch its path change. The step inspector shows the
   numbers behind any step; on the quadratic, the theory panel checks the textbook rates live.
3. Take the same settings to the **MNIST Lab** and train a small network on real digits.
4. The lessons take `torch.optim` apart piece by piece, each with an experiment you can change. Every number on
   a lesson page is computed by the code shown beside it.

The Surface Lab keeps its whole configuration in the URL: copy the address to share an experiment with a class.
""")
    )
    for section in (LABS, LESSONS):
        st.subheader(t(section))
        for entry in (e for e in ENTRIES if e.section == section):
            st.page_link(entry.path, label=entry.label(), query_params=link_params())


navigation = {"": [st.Page(home, title=t("Home"), icon=":material/home:", default=True)]}
for entry in ENTRIES:
    navigation.setdefault(t(entry.section), []).append(
        st.Page(entry.path, title=t(entry.title), url_path=entry.url_path)
    )
st.navigation(navigation).run()
