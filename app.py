"""optlab: watch neural-network optimizers at work, and learn how torch.optim works inside."""

import streamlit as st

from optlab.ui.pages import page_entries

st.set_page_config(page_title="optlab", page_icon="📉", layout="wide")

st.title("optlab")
st.markdown(
    """
See what **SGD**, **momentum**, **Nesterov**, **Adam** and its family, and an **EMA of the weights** actually do.
Every optimizer here is a `torch.optim.Optimizer` that matches PyTorch to float precision, and it can explain each
of its steps: the gradient, the momentum buffer, the moments and their bias corrections, the update.
"""
)

labs = [e for e in page_entries() if "Lab" in e.title]
lessons = [e for e in page_entries() if "Lab" not in e.title]

st.subheader("Where to start")
st.markdown(
    """
1. Open the **Surface Lab**, keep the defaults, and press play on the replay: the same start, three optimizers.
2. Drag the learning rate or the momentum of one run and watch its path change. The step inspector shows the
   numbers behind any step; the theory panel checks the textbook rates live on the quadratic.
3. Take the same settings to the **MNIST Lab** and train a small network on real digits.
4. The lessons explain `torch.optim` piece by piece, each with an experiment you can change.

The Surface Lab keeps its whole configuration in the URL: copy the address to share an experiment with a class.
"""
)

st.subheader("Labs")
for entry in labs:
    st.page_link(entry.path, label=f"**{entry.title}**: {entry.summary}")

st.subheader("Lessons")
for entry in lessons:
    st.page_link(entry.path, label=f"**{entry.title}**: {entry.summary}")
