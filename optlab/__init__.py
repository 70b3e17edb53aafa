"""optlab: see how neural-network optimizers behave.

Layers, from the bottom up (an import may only point down this list):

- ``optlab.optim``, ``optlab.ema``, ``optlab.surfaces``, ``optlab.expr``, ``optlab.theory``,
  ``optlab.schedules``: the math, torch only.
- ``optlab.registry``: what each optimizer is called and which knobs it has.
- ``optlab.trace``, ``optlab.mnist``, ``optlab.lessons``: running things.
- ``optlab.plots``: Plotly figure builders, arrays in, figures out.
- ``optlab.ui``: Streamlit helpers shared by the pages.
"""

__version__ = "0.1.0"
