"""``minitransformers attention``: save a picture of where each token looks, for one text.

Without ``--layer``/``--head`` it draws every head of every layer in a
grid; with both, one head as a large heat map with the tokens written out.
``--html page.html`` also writes the interactive explorer: one self-contained
page with every layer and head, to open in any browser (no network needed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import (
    SHIPPED_BERT,
    CLIError,
    check_writable,
    load_model_and_tokenizer,
    pick_device,
    set_seed,
    use_file_backend,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", help="the text to look at")
    parser.add_argument("--model", default=SHIPPED_BERT,
                        help=f"shipped checkpoint name or a Hugging Face-format folder, BERT or GPT "
                             f"(default: {SHIPPED_BERT})")
    parser.add_argument("--layer", type=int, default=None, help="one layer (0 = first); default: all")
    parser.add_argument("--head", type=int, default=None, help="one head of --layer; default: all")
    parser.add_argument("--output", type=Path, default=Path("attention.png"),
                        help="PNG (or PDF) file to write (default: attention.png)")
    parser.add_argument("--html", type=Path, default=None,
                        help="also write the interactive attention explorer to this HTML file")
    parser.add_argument("--pair", default=None, help="a second sentence, for BERT sentence pairs (HTML page)")


def run(args: argparse.Namespace) -> int:
    from ..models import BertModel, GPTModel

    if args.head is not None and args.layer is None:  # said before the model loads
        raise CLIError(f"--head {args.head} needs --layer too: add --layer N, the layer that head belongs to")
    check_writable(args.output, "--output")
    if args.html is not None:
        check_writable(args.html, "--html")
    device = pick_device(args.device)
    set_seed(args.seed)
    use_file_backend()
    model, tokenizer = load_model_and_tokenizer(args.model, device, bert_class=BertModel, gpt_class=GPTModel)
    path = save_attention_figure(model, tokenizer, args.text, args.output, args.layer, args.head)
    print(f"attention map saved to {path}")
    if args.html is not None:
        from ..explorer import explore

        page = explore(model, args.text, tokenizer=tokenizer, text_pair=args.pair).save_html(args.html)
        print(f"interactive explorer saved to {page}")
    return 0


def save_attention_figure(model, tokenizer, text: str, path: Path, layer: int | None = None,
                          head: int | None = None) -> Path:
    """Run ``text`` through ``model`` and save its attention weights as a figure at ``path``."""
    import matplotlib.pyplot as plt
    import torch

    from ..plotting import plot_attention, plot_attention_grid

    from ..body import find_body

    body, _ = find_body(model)
    n_layers, n_heads = body.config.n_layers, body.config.n_heads
    if layer is not None and not 0 <= layer < n_layers:
        raise CLIError(f"--layer {layer} does not exist; this model has layers 0..{n_layers - 1}")
    if head is not None and layer is None:
        raise CLIError(f"--head {head} needs --layer too: add --layer N with N in 0..{n_layers - 1}")
    if head is not None and not 0 <= head < n_heads:
        raise CLIError(f"--head {head} does not exist; this model has heads 0..{n_heads - 1}")
    ids = tokenizer.encode(text, truncation=True, max_length=body.config.max_positions)
    if not ids:
        raise CLIError("the text encodes to zero tokens; give some text")
    tokens = tokenizer.display_tokens(ids)
    with torch.no_grad():
        attentions = body(torch.tensor([ids], device=body.device), output_attentions=True).attentions
    if head is not None:
        figure = plot_attention(attentions[layer][0, head], tokens,
                                title=f"attention weights, layer {layer}, head {head}")
    else:
        layers = None if layer is None else [layer]
        figure = plot_attention_grid(attentions, tokens, layers=layers)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return path
