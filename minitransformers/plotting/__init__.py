"""Pictures of what happens inside a transformer: masks, attention, analysis, embeddings.

Every function returns a ``matplotlib.figure.Figure`` (shown once when it is
a Jupyter cell's value, or with ``display(fig)``; save it with
``fig.savefig("x.png")``, PNG or PDF) and draws on ``ax``/``axes``/``fig``
when given. A new figure is made for a slide: 600 px or more on its short
side, at most 1600 px wide, text of 9 pt or more that grows with the panel,
a title that says what is drawn and on which tokens, a newline token shown
as ``⏎`` and a lone space as ``␣``. Long sequences are cut and crowded tick
labels left out, always with a note written in the figure (``notes_in(fig)``
lists them).

For a slide comparing BERT and GPT on one sentence::

    plot_attention_comparison({"mini-BERT": (bert_attentions, bert_tokens),
                               "mini-GPT": (gpt_attentions, gpt_tokens)},
                              layers=[0, -1], heads=[0, 1])
"""

from ._layout import notes_in
from .analysis import plot_head_entropy, plot_rollout
from .attention import plot_attention
from .comparison import plot_attention_comparison, plot_rollout_comparison
from .grid import plot_attention_grid
from .head_view import plot_head_view
from .masks import plot_mask, plot_mask_comparison
from .scatter import plot_embedding_scatter

__all__ = [
    "notes_in", "plot_attention", "plot_attention_comparison", "plot_attention_grid",
    "plot_embedding_scatter", "plot_head_entropy", "plot_head_view", "plot_mask", "plot_mask_comparison",
    "plot_rollout", "plot_rollout_comparison",
]
