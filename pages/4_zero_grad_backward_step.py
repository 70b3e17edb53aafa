"""zero_grad, backward, step: gradients add up, accumulation over micro-batches, set_to_none and closures."""

import streamlit as st

from optlab.lessons import zero_grad
from optlab.plots.lessons import curves
from optlab.ui.lesson import predict_then_reveal, show_code
from optlab.ui.pages import use_app_navigation

use_app_navigation()

st.title("zero_grad, backward, step")
st.markdown(
    "`loss.backward()` does not overwrite `.grad`, it **adds** to it. `optimizer.step()` reads `.grad`; "
    "`optimizer.zero_grad()` clears it. Forget the clearing and every step uses the sum of all past gradients."
)

st.subheader("1. Gradients add up")
calls = st.slider("backward() calls without zero_grad", 1, 8, 4, key="zg_calls")
piled = zero_grad.grads_pile_up(calls)
st.code("\n".join(f"after call {i + 1}: w.grad = {g:g}" for i, g in enumerate(piled)), language="text")
show_code(zero_grad.grads_pile_up)

st.subheader("2. What that does to the steps")
lr = st.slider("lr", 0.01, 0.5, 0.1, 0.01, key="zg_lr")
steps = 40
runs = zero_grad.run_with_and_without_zero_grad(lr, steps)
late_swing = max(abs(w) for w in runs["without zero_grad"][steps // 2:])  # largest |w| over the second half
options = ["yes, just as before", "no, it overshoots and swings"]
if predict_then_reveal(
    "zg_skip",
    rf"Gradient descent on $L = w^2/2$ from $w = 1$, $\mathrm{{lr}} = {lr:g}$. Without `zero_grad()`, does $w$ "
    "still settle at 0?",
    options,
    options[0] if late_swing < 0.1 else options[1],
    r"The summed gradient acts like momentum with $\mu = 1$: nothing ever forgets, so $w$ swings around 0.",
):
    st.plotly_chart(curves(runs, "w over the steps", y_title="w", hline=0.0), key="zg_runs")
    st.markdown(
        f"After {steps} steps: $w$ = **{runs['with zero_grad'][-1]:.4g}** with `zero_grad()`, "
        f"**{runs['without zero_grad'][-1]:.4g}** without; over the last {steps - steps // 2} steps without "
        f"`zero_grad()`, $|w|$ still reaches **{late_swing:.3g}**."
    )
show_code(zero_grad.run_with_and_without_zero_grad)

st.subheader("3. Gradient accumulation = a bigger batch")
c1, c2 = st.columns(2)
k = c1.slider("micro-batches k", 1, 8, 4, key="zg_k")
size = c2.slider("micro-batch size", 1, 32, 8, key="zg_size")
acc = zero_grad.accumulation_equals_big_batch(k, size)
st.markdown("The gradient `model.weight.grad` of a linear model, computed both ways:")
st.dataframe({"weight": [f"w[{i}]" for i in range(len(acc["big_batch"]))],
              f"one batch of {k}·{size} = {k * size}": acc["big_batch"],
              f"{k} micro-batches, each loss / {k}": acc["accumulated"]}, hide_index=True)
st.metric("largest difference (float32 rounding)", f"{acc['max_gap']:.2g}")
show_code(zero_grad.accumulation_equals_big_batch)

st.subheader("4. set_to_none")
none = zero_grad.set_to_none()
st.code(
    f"opt.zero_grad(set_to_none=False)  ->  w.grad = {none['set_to_none=False']}\n"
    f"opt.zero_grad()                   ->  w.grad = {none['set_to_none=True']}\n"
    f"opt.step() with w.grad None       ->  len(opt.state) = {none['state_after_step']}",
    language="text",
)
st.markdown("A parameter whose `.grad` is `None` is skipped by `step()`: no update, no momentum, no state.")
show_code(zero_grad.set_to_none)

st.subheader("5. A closure")
max_iter = st.slider("L-BFGS max_iter", 1, 20, 5, key="zg_max_iter")
closure = zero_grad.closure_calls(max_iter)
st.markdown(
    f"One `step(closure)` called the closure **{closure['closure_calls']}** times, returned the loss "
    f"**{closure['loss_returned']:g}** and moved $w$ to **({closure['w_after'][0]:.4f}, {closure['w_after'][1]:.4f})**."
)
show_code(zero_grad.closure_calls)
