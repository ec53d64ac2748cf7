"""The interactive attention explorer: one self-contained HTML page per input.

``explore(model, text, tokenizer=...)`` runs the model once, keeps every
layer's and head's attention weights (``data.py``), and returns an
``AttentionExplorer``. In Jupyter it shows itself inline; ``save_html``
writes a page that opens in any browser, offline:

- everything is inline (data as JSON, the script, the style): the page
  never touches the network, so it works where a CDN is blocked;
- the script is plain JavaScript (``explorer.js``), wrapped in a function
  bound to its own root element, so several views in one notebook do not
  interfere;
- long inputs are shown a window of query rows at a time (prev/next).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import torch
from torch import nn

from .data import attention_data, encode_input


def _asset(name: str) -> str:
    """The text of ``page.html``, ``explorer.js`` or ``explorer.css`` shipped with the package."""
    return resources.files("minitransformers.explorer").joinpath(name).read_text(encoding="utf-8")


def _json_for_script(data: dict) -> str:
    """JSON that is safe inside ``<script>``: a token such as ``"</script>"`` cannot end the tag.

    ``\\u003c`` is the same character to a JSON parser, but not to the HTML parser.
    """
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class AttentionExplorer:
    """One input's attention weights, ready to show: ``.data`` (a JSON-able dict), HTML out.

    ``window`` is how many query tokens the page shows at once.
    """

    def __init__(self, data: dict, window: int = 32, title: str | None = None) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1 query token, got {window}")
        self.data = data
        self.data["window"] = window
        self.title = title or f"Attention: {data['model']}, {len(data['tokens'])} tokens"

    def html_fragment(self) -> str:
        """A ``<div>`` holding the view: style, data and script, with a fresh unique root id."""
        root_id = f"mtx-explorer-{uuid.uuid4().hex[:12]}"
        # A closure per view: its names stay private, and it is bound to its own root element.
        # The script sits inside the root, so currentScript finds it even before a notebook
        # attaches the output to the document (when getElementById would still fail).
        root = (
            "(document.currentScript && document.currentScript.parentElement)"
            f" || document.getElementById({json.dumps(root_id)})"
        )
        start = f"startExplorer({root});"
        script = f"(function () {{\n{_asset('explorer.js')}\n{_asset('selftest.js')}\n{start}\n}})();"
        return (
            f'<div class="mtx-explorer" id="{root_id}">\n'
            f"<style>{_asset('explorer.css')}</style>\n"
            f'<script type="application/json" class="mtx-data">{_json_for_script(self.data)}</script>\n'
            f'<div class="mtx-fallback">The attention explorer did not start: it needs JavaScript '
            f"(no network). In Jupyter, trust the notebook or run the cell again.</div>\n"
            f"<script>{script}</script>\n"
            f"</div>"
        )

    def to_html(self) -> str:
        """The full page (``page.html`` with the view inside)."""
        title = self.title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        page = _asset("page.html").replace("{{title}}", title)
        return page.replace("{{view}}", self.html_fragment())

    def save_html(self, path: str | Path) -> Path:
        """Write the page to ``path`` (open it in a browser; it needs no network) and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_html(), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return self.html_fragment()

    def __repr__(self) -> str:
        d = self.data
        return (
            f"AttentionExplorer({d['model']}: {d['n_layers']} layers x {d['n_heads']} heads, "
            f"{len(d['tokens'])} tokens, {d['mask_kind']} mask)"
        )


def explore(
    model: nn.Module,
    text_or_ids: str | Sequence[int] | torch.Tensor,
    tokenizer=None,
    text_pair: str | None = None,
    max_tokens: int = 128,
    window: int = 32,
    token_type_ids: Sequence[int] | torch.Tensor | None = None,
    layers: Sequence[int] | None = None,
    title: str | None = None,
) -> AttentionExplorer:
    """Run ``model`` on one input and return an interactive view of every layer's and head's attention.

    Args:
        model: mini-BERT or mini-GPT, bare (``BertModel``, ``GPTModel``) or with a head
            (``BertForPreTraining``, ``GPTLMHeadModel``, ...).
        text_or_ids: a string (needs ``tokenizer``) or token ids of shape ``(t,)`` or ``(1, t)``.
        tokenizer: turns text into ids and ids into the token labels shown.
        text_pair: a second sentence (BERT); the page marks segments A and B.
        max_tokens: longer inputs are cut to this many tokens (the page grows with its square).
        window: how many query tokens the page shows at once (prev/next move the window).
        token_type_ids: segment ids when giving ids for a BERT sentence pair.
        layers: show only these layers (e.g. ``[0, 11]`` for a 12-layer model); all by default.
        title: the page's heading.

    Returns an ``AttentionExplorer``: displayed inline in Jupyter, ``.save_html(path)`` for a file.
    """
    ids, segments = encode_input(text_or_ids, tokenizer, text_pair, token_type_ids)
    tokens = tokenizer.display_tokens(ids) if tokenizer is not None else None
    data = attention_data(model, ids, segments, tokens, max_tokens=max_tokens, layers=layers)
    return AttentionExplorer(data, window=window, title=title)
