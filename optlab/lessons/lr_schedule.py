"""The lesson on the learning rate during training: edit lr in place vs rebuild the optimizer; torch's schedulers.

The schedules themselves live in optlab.schedules (torch.optim.lr_scheduler underneath); nothing is re-implemented here.
"""

import numpy as np
import torch

from optlab import optim
from optlab.schedules import SCHEDULES, lr_curve, make_scheduler

START = (-2.0, 1.0)


def bowl(p: torch.Tensor) -> torch.Tensor:
    """The loss of this lesson: an elongated bowl L = (x^2 + 10 y^2) / 2, minimum at the origin."""
    return 0.5 * (p[0] ** 2 + 10.0 * p[1] ** 2)


def change_lr_midway(lr: float, new_lr: float, momentum: float, switch_at: int, steps: int) -> dict:
    """Two runs that switch lr at step `switch_at`: one edits param_groups in place, one builds a new SGD.

    The new optimizer starts with an empty state, so the momentum built up so far is thrown away.
    """
    paths = {}
    for how in ("edit in place", "new optimizer"):
        p = torch.tensor(START, requires_grad=True)
        opt = optim.SGD([p], lr=lr, momentum=momentum)
        path = [p.detach().clone()]
        for t in range(steps):
            if t == switch_at:
                if how == "edit in place":
                    for group in opt.param_groups:
                        group["lr"] = new_lr  # keeps opt.state, momentum buffer included
                else:
                    opt = optim.SGD([p], lr=new_lr, momentum=momentum)  # state starts empty again
            opt.zero_grad()
            bowl(p).backward()
            opt.step()
            path.append(p.detach().clone())
        paths[how] = torch.stack(path).double().numpy()
    return paths


def schedule_curves(lr: float, total_steps: int) -> dict[str, np.ndarray]:
    """lr(t) of every schedule at its default settings, as torch's schedulers produce it."""
    return {key: lr_curve(key, lr, total_steps) for key in SCHEDULES}


def scheduled_run(key: str, lr: float, momentum: float, steps: int) -> dict:
    """SGD on the bowl with a torch scheduler: scheduler.step() once after each optimizer.step()."""
    p = torch.tensor(START, requires_grad=True)
    opt = optim.SGD([p], lr=lr, momentum=momentum)
    scheduler = make_scheduler(opt, key, steps)  # None for the constant schedule
    lrs, losses = [], [bowl(p).item()]
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])  # the lr this step uses
        opt.zero_grad()
        bowl(p).backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(bowl(p).item())
    return {"lrs": np.array(lrs), "losses": np.array(losses)}
