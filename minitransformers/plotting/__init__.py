"""Pictures of what happens inside a transformer: masks, attention, analysis, embeddings.

Every function returns a ``matplotlib.figure.Figure`` (shown once when it is
a Jupyter cell's value; save it with ``fig.savefig("x.png")``, PNG or PDF)
and draws on ``ax``/``axes``/``fig`` when given. Long sequences are cut and
crowded tick labels left out, always with a note written in the figure.
"""

from .masks import plot_mask, plot_mask_comparison

__all__ = ["plot_mask", "plot_mask_comparison"]
