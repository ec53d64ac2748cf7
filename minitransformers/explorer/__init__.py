"""An interactive, offline attention explorer: ``explore(model, text, tokenizer=...)``.

Read ``data.py`` (what is shown) then ``explorer.py`` (the page); the page's
script is ``explorer.js`` (``selftest.js`` for automated checks), its style ``explorer.css``, its frame ``page.html``.
"""

from .data import attention_data, find_body
from .explorer import AttentionExplorer, explore

__all__ = ["AttentionExplorer", "attention_data", "explore", "find_body"]
