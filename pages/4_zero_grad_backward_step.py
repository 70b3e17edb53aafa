"""zero_grad, backward, step: gradients add up, accumulation over micro-batches, set_to_none and closures."""

import streamlit as st

from optlab.i18n import N_, t
from optlab.lessons import zero_grad
from optlab.plots.lessons import curves
from optlab.ui.lesson import keep_in_link, predict_then_reveal, show_code
from optlab.ui.pages import use_app_navigation

use_app_navigation()
# The names lesson functions give their runs, shown in the reader's language.
RUN_NAMES = (N_("with zero_grad"), N_("without zero_grad"))

st.title(t("zero_grad, backward, step"))
controls = keep_in_link(4)
st.markdown(t(
    "`loss.backward()` does not overwrite `.grad`, it **adds** to it. `optimizer.step()` reads `.grad`; "
    "`optimizer.zero_grad()` clears it. Forget the clearing and every step uses the sum of all past gradients."
))

st.subheader(t("1. Gradients add up"))
calls = controls.widget(st.slider, t("backward() calls without zero_grad"), 1, 8, 4, key="zg_calls")
piled = zero_grad.grads_pile_up(calls)
st.code("\n".join(t("after call {i}: w.grad = {g}", i=i + 1, g=f"{g:g}") for i, g in enumerate(piled)),
        language="text")
show_code(zero_grad.grads_pile_up)

st.subheader(t("2. What that does to the steps"))
lr = controls.widget(st.slider, t("lr"), 0.01, 0.5, 0.1, 0.01, key="zg_lr")
steps = 40
runs = zero_grad.run_with_and_without_zero_grad(lr, steps)
late_swing = max(abs(w) for w in runs["without zero_grad"][steps // 2:])  # largest |w| over the second half
options = [N_("yes, just as before"), N_("no, it overshoots and swings")]
if predict_then_reveal(
    "zg_skip",
    t(r"Gradient descent on $L = w^2/2$ from $w = 1$, $\mathrm{{lr}} = {lr}$. Without `zero_grad()`, does $w$ "
      "still settle at 0?", lr=f"{lr:g}"),
    options,
    options[0] if late_swing < 0.1 else options[1],
    t(r"The summed gradient acts like momentum with $\mu = 1$: nothing ever forgets, so $w$ swings around 0."),
):
    st.plotly_chart(curves({t(k): v for k, v in runs.items()}, t("w over the steps"),
                           y_title="w", hline=0.0), key="zg_runs")
    st.markdown(t(
        "After {steps} steps: $w$ = **{with_zero}** with `zero_grad()`, **{without}** without; over the last "
        "{last} steps without `zero_grad()`, $|w|$ still reaches **{swing}**.",
        steps=steps, with_zero=f"{runs['with zero_grad'][-1]:.4g}", without=f"{runs['without zero_grad'][-1]:.4g}",
        last=steps - steps // 2, swing=f"{late_swing:.3g}",
    ))
show_code(zero_grad.run_with_and_without_zero_grad)

st.subheader(t("3. Gradient accumulation = a bigger batch"))
c1, c2 = st.columns(2)
k = controls.widget(c1.slider, t("micro-batches k"), 1, 8, 4, key="zg_k")
size = controls.widget(c2.slider, t("micro-batch size"), 1, 32, 8, key="zg_size")
acc = zero_grad.accumulation_equals_big_batch(k, size)
st.markdown(t("The gradient `model.weight.grad` of a linear model, computed both ways:"))
st.dataframe({t("weight"): [f"w[{i}]" for i in range(len(acc["big_batch"]))],
              t("one batch of {k}·{size} = {n}", k=k, size=size, n=k * size): acc["big_batch"],
              t("{k} micro-batches, each loss / {k}", k=k): acc["accumulated"]}, hide_index=True)
st.metric(t("largest difference (float32 rounding)"), f"{acc['max_gap']:.2g}")
show_code(zero_grad.accumulation_equals_big_batch)

st.subheader(t("4. set_to_none"))
none = zero_grad.set_to_none()
st.code(
    f"opt.zero_grad(set_to_none=False)  ->  w.grad = {none['set_to_none=False']}\n"
    f"opt.zero_grad()                   ->  w.grad = {none['set_to_none=True']}\n"
    f"opt.step() with w.grad None       ->  len(opt.state) = {none['state_after_step']}",
    language="text",
)
st.markdown(t("A parameter whose `.grad` is `None` is skipped by `step()`: no update, no momentum, no state."))
show_code(zero_grad.set_to_none)

st.subheader(t("5. A closure"))
max_iter = controls.widget(st.slider, t("L-BFGS max_iter"), 1, 20, 5, key="zg_max_iter")
closure = zero_grad.closure_calls(max_iter)
st.markdown(t(
    "One `step(closure)` called the closure **{calls}** times, returned the loss **{loss}** and moved $w$ to "
    "**({x}, {y})**.",
    calls=closure["closure_calls"], loss=f"{closure['loss_returned']:g}", x=f"{closure['w_after'][0]:.4f}",
    y=f"{closure['w_after'][1]:.4f}",
))
show_code(zero_grad.closure_calls)
